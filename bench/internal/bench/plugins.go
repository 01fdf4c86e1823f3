package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The go-plugin handshake as a host performs it, from the outside: the
// bench starts the built plugin binary with the environment a host gives it
// and reads the handshake line from its stdout. The values are the wire
// contract of plugins/sdk (handshake.go) and go-plugin; they are repeated
// here so that the bench depends on built binaries only.
const (
	pluginMagicCookieKey   = "PGDOCK_PLUGIN_MAGIC_COOKIE"
	pluginMagicCookieValue = "b7e1f3c2-pgdock-plugin-9d4a"
	pluginProtocolVersions = "1"
	pluginHandshakeTimeout = 30 * time.Second
)

// pluginStarts measures the example plugin started the way a host starts
// it: exec, go-plugin handshake line on stdout, connection to the socket it
// names; then the idle plugin's RSS.
func (r *rig) pluginStarts(ctx context.Context) []Measure {
	n := r.cfg.settings().PluginRuns
	hs := newSeries("exec -> go-plugin handshake line -> connected to the plugin's socket")
	rss := newSeries("example plugin VmRSS after start + settle")
	handshake := spec{id: "plugin_handshake", name: "plugin handshake, example (exec + go-plugin handshake)", unit: unitMs, showP95: true}
	pluginRSS := spec{id: "plugin_rss_idle", name: "plugin RSS, idle, example (started by the bench)", unit: unitMiB,
		goal: memoryGoal(15)}

	sb, err := r.newSandbox("plugins")
	if err != nil {
		return []Measure{handshake.failed(err), pluginRSS.failed(err)}
	}
	defer r.closeSandbox(sb)
	bin := filepath.Join(r.pluginDir, "pgdock-plugin-example")
	if _, err := os.Stat(bin); err != nil {
		err = fmt.Errorf("%w (is bin/plugins/pgdock-plugin-example built?)", err)
		return []Measure{handshake.failed(err), pluginRSS.failed(err)}
	}
	sockDir := filepath.Join(sb.root, "p")
	if err := os.MkdirAll(sockDir, 0o700); err != nil {
		return []Measure{handshake.failed(err), pluginRSS.failed(err)}
	}
	env := append(append([]string(nil), r.baseEnv...),
		pluginMagicCookieKey+"="+pluginMagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS="+pluginProtocolVersions,
		"PLUGIN_UNIX_SOCKET_DIR="+sockDir,
		"PGDOCK_PLUGIN_NAME=example",
		"EXAMPLE_ENABLE=true",
	)
	sides := []side{{name: "example", s: hs, run: func() error { return r.pluginOnce(ctx, sb, bin, env, hs, rss) }}}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("plugin start", round, n, name, hs, err)
	}); err != nil {
		return nil
	}
	rss.err = hs.err
	return []Measure{handshake.measure(hs, nil), pluginRSS.measure(rss, nil)}
}

func (r *rig) pluginOnce(ctx context.Context, sb *sandbox, bin string, env []string, hs, rss *series) error {
	out, err := sb.logFile("plugin.log")
	if err != nil {
		return err
	}
	defer out.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("plugin stdout pipe: %w", err)
	}
	spec := procSpec{Path: bin, Env: env, Dir: sb.root, Out: out}
	cmd := spec.command()
	cmd.Stdout = pw
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return fmt.Errorf("start plugin: %w", err)
	}
	pw.Close()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		pr.Close()
	}()
	line, err := handshakeLine(ctx, pr)
	if err != nil {
		return err
	}
	lineAt := time.Now()
	network, addr, err := parseHandshake(line)
	if err != nil {
		return err
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := d.DialContext(dctx, network, addr)
	cancel()
	if err != nil {
		return fmt.Errorf("connect to the plugin: %w", err)
	}
	connected := time.Now()
	conn.Close()
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	kb, err := rssKiB(cmd.Process.Pid)
	if err != nil {
		return err
	}
	hs.addDur(connected.Sub(t0))
	hs.addPart("exec -> handshake line", lineAt.Sub(t0))
	rss.add(float64(kb) / 1024)
	return nil
}

// handshakeLine reads the first line of the plugin's stdout.
func handshakeLine(ctx context.Context, r *os.File) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	t := time.NewTimer(pluginHandshakeTimeout)
	defer t.Stop()
	select {
	case res := <-ch:
		if res.err != nil && res.line == "" {
			return "", fmt.Errorf("plugin handshake: %w", res.err)
		}
		return res.line, nil
	case <-t.C:
		return "", fmt.Errorf("plugin handshake: no line within %s", pluginHandshakeTimeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// parseHandshake takes "core|app|network|address|protocol" apart.
func parseHandshake(line string) (network, addr string, err error) {
	parts := strings.Split(line, "|")
	if len(parts) < 5 {
		return "", "", fmt.Errorf("plugin handshake: unexpected line %q", line)
	}
	if parts[4] != "grpc" {
		return "", "", fmt.Errorf("plugin handshake: protocol %q, want grpc", parts[4])
	}
	if parts[2] != "unix" && parts[2] != "tcp" {
		return "", "", errors.New("plugin handshake: network " + parts[2])
	}
	return parts[2], parts[3], nil
}

// envValue looks a variable up in a KEY=VALUE list, falling back to the
// process environment.
func envValue(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return os.Getenv(key)
}
