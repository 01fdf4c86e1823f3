package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// EnvHooksSocket names the hooks socket in a mode child's environment; the
// `pgdock-entrypoint hook ...` subcommands connect to it.
const EnvHooksSocket = "PGDOCK_HOOKS_SOCKET"

// hooksSocketName is the socket's name inside <socket home>/hooks (0700).
const hooksSocketName = "hooks.sock"

// The hooks protocol: the client sends one line, "<request> [args...]",
// and reads one line back, "ok [message]" or "fail <message>"; then the
// connection closes. Requests:
//
//	post-bootstrap            run the first-boot steps (mode providers that own bootstrap)
//	run-job <plugin> <job>    run a plugin's job now and wait for it (designed for
//	                          `pgdock-entrypoint backup`, issue 9)
const (
	hookPostBootstrap = "post-bootstrap"
	hookRunJob        = "run-job"
)

// hookHandler answers one request; its error is sent as "fail <message>".
type hookHandler func(ctx context.Context, req string, args []string) (string, error)

// hooksServer listens on the hooks socket while a mode child runs. Only the
// server's user can reach it (its directory is 0700).
type hooksServer struct {
	ln     net.Listener
	path   string
	log    *zap.Logger
	handle hookHandler
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// listenHooks creates <dir>/hooks.sock (dir made 0700) and serves it until
// close.
func listenHooks(ctx context.Context, dir string, log *zap.Logger, handle hookHandler) (*hooksServer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hooks socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hooks socket directory: %w", err)
	}
	path := filepath.Join(dir, hooksSocketName)
	_ = os.Remove(path) // a stale socket of an earlier run
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("hooks socket: %w", err)
	}
	hctx, cancel := context.WithCancel(ctx)
	h := &hooksServer{ln: ln, path: path, log: log, handle: handle, ctx: hctx, cancel: cancel}
	h.wg.Add(1)
	go h.serve()
	return h, nil
}

func (h *hooksServer) serve() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.serveConn(c)
		}()
	}
}

func (h *hooksServer) serveConn(c net.Conn) {
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	fields := strings.Fields(line)
	if len(fields) == 0 {
		fmt.Fprintln(c, "fail empty request")
		return
	}
	h.log.Info("hook request", zap.String("request", fields[0]))
	msg, err := h.handle(h.ctx, fields[0], fields[1:])
	if err != nil {
		h.log.Error("hook request failed", zap.String("request", fields[0]), zap.Error(err))
		fmt.Fprintln(c, "fail "+oneLine(err.Error()))
		return
	}
	fmt.Fprintln(c, strings.TrimSpace("ok "+oneLine(msg)))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// close stops accepting, cancels running requests and waits for them.
func (h *hooksServer) close() {
	if h == nil {
		return
	}
	_ = h.ln.Close()
	h.cancel()
	h.wg.Wait()
	_ = os.Remove(h.path)
}

// Hook is `pgdock-entrypoint hook <request> [args]`: it sends the request
// to the entrypoint's hooks socket ($PGDOCK_HOOKS_SOCKET, else the one the
// state file in PGDOCK_STATE_DIR names) and returns 0
// when the answer is ok, 1 otherwise. Arguments after the request are sent
// too (Patroni passes a connection string to post_bootstrap; it is ignored).
func Hook(o Options, request string, args []string) int {
	path := o.Env[EnvHooksSocket]
	if path == "" {
		// The state file names it: PGDOCK_STATE_DIR, or the directory the
		// entrypoint resolved for this uid.
		st, err := state.Read(state.ResolveDir(o.Env["PGDOCK_STATE_DIR"], os.Getuid()))
		if err != nil || st.HooksSocket == "" {
			fmt.Fprintln(o.Stderr, "pgdock-entrypoint hook: no hooks socket: "+EnvHooksSocket+" is not set and the state file names none (is a mode provider's command running?)")
			return 1
		}
		path = st.HooksSocket
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint hook: %v\n", err)
		return 1
	}
	defer c.Close()
	req := request
	if request == hookRunJob {
		req = strings.Join(append([]string{request}, args...), " ")
	}
	if _, err := fmt.Fprintln(c, req); err != nil {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint hook: %v\n", err)
		return 1
	}
	answer, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && !errors.Is(err, net.ErrClosed) && answer == "" {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint hook %s: no answer: %v\n", request, err)
		return 1
	}
	answer = strings.TrimSpace(answer)
	if answer == "ok" || strings.HasPrefix(answer, "ok ") {
		if m := strings.TrimSpace(strings.TrimPrefix(answer, "ok")); m != "" {
			fmt.Fprintln(o.Stdout, m)
		}
		return 0
	}
	fmt.Fprintf(o.Stderr, "pgdock-entrypoint hook %s: %s\n", request, strings.TrimPrefix(answer, "fail "))
	return 1
}
