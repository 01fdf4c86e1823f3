package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The bare side: the same PostgreSQL steps without the entrypoint, run as
// the server user. Two flavours: pg_ctl (what a shell entrypoint runs; it
// polls postmaster.pid every 100 ms) and "direct" (the bench starts
// postgres itself and polls postmaster.pid every 2 ms exactly as the
// entrypoint does, so the difference is the entrypoint's overhead alone).

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
// says ready, the way the entrypoint does (a 2 ms poll of postmaster.pid,
// 50 ms after the first 2 s), re-implemented here so that the bench drives
// only built binaries and PostgreSQL.
func (r *rig) directStart(ctx context.Context, sb *sandbox, out *os.File, socketOnly bool) (*proc, time.Duration, error) {
	p, t0, err := startProc("postgres", r.bareSpec(sb, r.pg.Postgres, out, append([]string{"-D", sb.data}, barePostgresOpts(sb, socketOnly)...)...))
	if err != nil {
		return nil, 0, err
	}
	rctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := waitPostmasterReady(rctx, p, sb.data); err != nil {
		directAbort(p)
		return nil, 0, fmt.Errorf("postgres not ready: %w; output:\n%s", err, tailFile(out.Name(), 20))
	}
	return p, time.Since(t0), nil
}

// waitPostmasterReady polls <pgdata>/postmaster.pid until it names p and
// its status line says ready (or standby).
func waitPostmasterReady(ctx context.Context, p *proc, pgdata string) error {
	start := time.Now()
	pidFile := filepath.Join(pgdata, "postmaster.pid")
	for {
		if data, err := os.ReadFile(pidFile); err == nil {
			lines := strings.Split(string(data), "\n")
			if len(lines) > 7 && strings.TrimSpace(lines[0]) == strconv.Itoa(p.pid()) {
				if st := strings.TrimSpace(lines[7]); st == "ready" || st == "standby" {
					return nil
				}
			}
		}
		interval := 2 * time.Millisecond
		if time.Since(start) > 2*time.Second {
			interval = 50 * time.Millisecond
		}
		t := time.NewTimer(interval)
		select {
		case <-p.done:
			t.Stop()
			return fmt.Errorf("postgres exited: %v", p.err)
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// directStop is a fast shutdown: SIGINT, then the postmaster is reaped.
func directStop(p *proc) (time.Duration, error) {
	sent, err := p.signal(syscall.SIGINT)
	if err != nil {
		return 0, err
	}
	end, err := p.wait(context.Background(), stopTimeout)
	if err != nil {
		directAbort(p)
		return 0, fmt.Errorf("fast shutdown: %w", err)
	}
	if err := p.exitError(); err != nil {
		return 0, fmt.Errorf("postgres stopped uncleanly: %w", err)
	}
	return end.Sub(sent), nil
}

// directAbort ends a direct server on an error path: SIGQUIT (immediate
// shutdown, which releases shared memory), then SIGKILL of the group.
func directAbort(p *proc) {
	if p == nil || p.exited() {
		return
	}
	_, _ = p.signal(syscall.SIGQUIT)
	if _, err := p.wait(context.Background(), 10*time.Second); err != nil {
		p.kill()
	}
}
