package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
)

// The bare side: the same PostgreSQL steps without the entrypoint, run as
// the server user. Two flavours: pg_ctl (what a shell entrypoint runs; it
// polls postmaster.pid every 100 ms) and "direct" (the bench starts
// postgres itself and polls postmaster.pid every 2 ms with the entrypoint's
// own postmaster package, so the difference is the entrypoint's overhead
// alone).

// barePostgresOpts are the server options of a bare start: socket-only for
// the temporary server of a first boot, else like the entrypoint's server.
func barePostgresOpts(sb *sandbox, socketOnly bool) []string {
	listen := listenAddr
	if socketOnly {
		listen = ""
	}
	return []string{"-c", "listen_addresses=" + listen, "-c", "unix_socket_directories=" + sb.sock, "-p", strconv.Itoa(sb.port)}
}

// pgCtlOpts is barePostgresOpts for pg_ctl -o, which passes it through sh.
func pgCtlOpts(sb *sandbox, socketOnly bool) string {
	listen := "'" + listenAddr + "'"
	if socketOnly {
		listen = "''"
	}
	return fmt.Sprintf("-c listen_addresses=%s -k %s -p %d", listen, sb.sock, sb.port)
}

func (r *rig) bareSpec(sb *sandbox, path string, out *os.File, args ...string) procSpec {
	return procSpec{Path: path, Args: args, Env: r.baseEnv, Dir: sb.root, Cred: r.cred(), Out: out}
}

// initdb runs initdb with the entrypoint's arguments. It returns the wall
// time and, like on the entrypoint's side, the time from initdb's first to
// its last output line (0 when they were not seen).
func (r *rig) initdb(ctx context.Context, sb *sandbox, out *os.File) (wall, window time.Duration, err error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, 0, fmt.Errorf("initdb output pipe: %w", err)
	}
	spec := r.bareSpec(sb, r.pg.Initdb, pw,
		"-D", sb.data, "--username="+serverUser, "--pwfile="+sb.pwfile(),
		"--auth-local=peer", "--auth-host=scram-sha-256")
	p, started, err := startProc("initdb", spec)
	pw.Close()
	if err != nil {
		pr.Close()
		return 0, 0, err
	}
	w := newLogWatch(pr, out, patInitdbStart, patInitdbEnd)
	defer func() {
		select { // the output is complete once initdb is gone
		case <-w.eof:
		case <-time.After(5 * time.Second):
		}
		pr.Close()
	}()
	end, err := p.wait(ctx, readyTimeout)
	if err != nil {
		p.kill()
		return 0, 0, err
	}
	if err := p.exitError(); err != nil {
		<-w.eof
		return 0, 0, fmt.Errorf("%w; output:\n%s", err, w.tail())
	}
	<-w.eof
	t0, _, ok0 := w.at(patInitdbStart)
	t1, _, ok1 := w.at(patInitdbEnd)
	if ok0 && ok1 {
		window = t1.Sub(t0)
	}
	return end.Sub(started), window, nil
}

func (sb *sandbox) serverLog() string { return filepath.Join(sb.logDir, "server.log") }

// pgCtlStart runs `pg_ctl start -w`.
func (r *rig) pgCtlStart(ctx context.Context, sb *sandbox, out *os.File, socketOnly bool) (time.Duration, error) {
	d, err := runProc(ctx, "pg_ctl start", r.bareSpec(sb, r.pg.PgCtl, out,
		"-D", sb.data, "-l", sb.serverLog(), "-w", "-t", "120", "-o", pgCtlOpts(sb, socketOnly), "start"), readyTimeout)
	if err != nil {
		return 0, fmt.Errorf("%w; server log:\n%s", err, tailFile(sb.serverLog(), 20))
	}
	return d, nil
}

// pgCtlStop runs `pg_ctl stop -m fast -w`.
func (r *rig) pgCtlStop(ctx context.Context, sb *sandbox, out *os.File) (time.Duration, error) {
	d, err := runProc(ctx, "pg_ctl stop", r.bareSpec(sb, r.pg.PgCtl, out,
		"-D", sb.data, "-m", "fast", "-w", "-t", "60", "stop"), stopTimeout)
	if err != nil {
		return 0, fmt.Errorf("%w; server log:\n%s", err, tailFile(sb.serverLog(), 20))
	}
	return d, nil
}

// directStart starts postgres as a child and waits until postmaster.pid
// says ready, the way the entrypoint does.
func (r *rig) directStart(ctx context.Context, sb *sandbox, out *os.File, socketOnly bool) (*postmaster.Process, time.Duration, error) {
	t0 := time.Now()
	srv, err := postmaster.Start(postmaster.Options{
		Postgres: r.pg.Postgres, PGData: sb.data, Args: barePostgresOpts(sb, socketOnly),
		Env: r.baseEnv, Stdout: out, Stderr: out, Credential: r.cred(),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("start postgres: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := srv.WaitReady(rctx); err != nil {
		directAbort(srv)
		return nil, 0, fmt.Errorf("postgres not ready: %w; output:\n%s", err, tailFile(out.Name(), 20))
	}
	return srv, time.Since(t0), nil
}

// directStop is a fast shutdown: SIGINT, then the postmaster is reaped.
func directStop(srv *postmaster.Process) (time.Duration, error) {
	res := srv.Stop(postmaster.Fast, stopTimeout, nil, nil)
	if res.Escalated || srv.ExitCode() != 0 {
		return 0, fmt.Errorf("postgres stopped uncleanly: %s (mode %s)", srv.Describe(), res.Final)
	}
	return res.Took, nil
}

// directAbort ends a direct server on an error path.
func directAbort(srv *postmaster.Process) {
	if srv != nil && !srv.Exited() {
		srv.Stop(postmaster.Immediate, 10*time.Second, nil, nil)
	}
}
