package upgrade

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
)

// killWait is how long a program is given to end after SIGTERM when the
// upgrade is interrupted, before SIGKILL.
const killWait = 5 * time.Second

// run starts name through the reaper in its own process group, in dir,
// with env, its output to out (and kept for the error), and waits. When ctx
// ends, the group gets SIGTERM, then SIGKILL after killWait.
func (o *Options) run(ctx context.Context, dir string, env []string, out io.Writer, name string, args ...string) (string, error) {
	var buf bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	w := io.Writer(&buf)
	if out != nil {
		w = io.MultiWriter(&buf, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	started, err := o.execute(ctx, cmd)
	if !started {
		return "", fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	text := buf.String()
	if err != nil {
		if ctx.Err() != nil {
			return text, fmt.Errorf("%s interrupted: %w", filepath.Base(name), ctx.Err())
		}
		return text, fmt.Errorf("%s failed (%w): %s", filepath.Base(name), err, tail(text, 20))
	}
	return text, nil
}

// execute starts cmd through the reaper in its own process group and waits
// for it. When ctx ends, the group gets SIGTERM, then SIGKILL after
// killWait. started is false when the reaper could not start it (err says
// why); otherwise err is nil or the child's *reaper.ExitError.
func (o *Options) execute(ctx context.Context, cmd *exec.Cmd) (started bool, err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	child, err := o.Reaper.Start(cmd)
	if err != nil {
		return false, err
	}
	select {
	case <-child.Done():
	case <-ctx.Done():
		child.KillGroup(syscall.SIGTERM)
		t := time.NewTimer(killWait)
		select {
		case <-child.Done():
		case <-t.C:
			child.KillGroup(syscall.SIGKILL)
		}
		t.Stop()
	}
	return true, child.Wait()
}

// tail returns the last n lines of s, trimmed.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// env is the base environment without what must not reach PostgreSQL's
// programs here (libpq's connection variables are ours to set;
// NOTIFY_SOCKET would let a temporary server talk to a supervisor), plus
// extra.
func (o *Options) env(extra ...string) []string {
	drop := map[string]bool{"NOTIFY_SOCKET": true, "PGHOST": true, "PGHOSTADDR": true, "PGPORT": true, "PGDATABASE": true,
		"PGUSER": true, "PGPASSWORD": true, "PGPASSFILE": true, "PGSERVICE": true, "PGSSLMODE": true, "PGOPTIONS": true,
		"PGDATA": true, "LD_LIBRARY_PATH": true}
	out := make([]string, 0, len(o.Env)+len(extra))
	for _, kv := range o.Env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// oldEnv is env for programs that run the old binaries (pg_upgrade runs
// them too): the old release's own shared libraries first, when the
// upgrade image carries them.
func (o *Options) oldEnv(p *plan, extra ...string) []string {
	if p.libPath != "" {
		extra = append(extra, "LD_LIBRARY_PATH="+p.libPath)
	}
	return o.env(extra...)
}

// trustHBA writes the pg_hba of the temporary servers: local connections
// only, trusted, which only the server's own user can make (the socket
// directory is 0700).
func (o *Options) trustHBA() (string, error) {
	if err := os.MkdirAll(o.SocketDir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", o.SocketDir, err)
	}
	if err := os.Chmod(o.SocketDir, 0o700); err != nil {
		return "", err
	}
	clearStaleSocketLocks(o.SocketDir)
	p := filepath.Join(o.SocketDir, "upgrade_hba.conf")
	if err := os.WriteFile(p, []byte("local all all trust\n"), 0o600); err != nil {
		return "", fmt.Errorf("write temporary pg_hba: %w", err)
	}
	return p, nil
}

// serverOptions are the settings every temporary server of the upgrade
// (pg_upgrade's and pgdock's) runs with: no TCP, the private socket
// directory, the trusting pg_hba, no WAL archiving (the WAL of an upgrade
// belongs to no backup), no TLS (nothing connects over TCP).
func (o *Options) serverOptions(hba string) []string {
	return []string{"-c", "listen_addresses=", "-c", "unix_socket_directories=" + o.SocketDir, "-c", "hba_file=" + hba,
		"-c", "archive_mode=off", "-c", "ssl=off"}
}

// pgctlOptions is serverOptions as one string for pg_upgrade -o/-O, which
// pg_ctl hands to a shell: every value single-quoted.
func (o *Options) pgctlOptions(hba string) string {
	a := o.serverOptions(hba)
	var b strings.Builder
	for i := 0; i+1 < len(a); i += 2 {
		name, val, _ := strings.Cut(a[i+1], "=")
		fmt.Fprintf(&b, " -c %s=%s", name, shellQuote(val))
	}
	return strings.TrimSpace(b.String())
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startServer starts postgres on data with the temporary servers' options,
// and waits until it is ready.
func (o *Options) startServer(ctx context.Context, postgres, data string, port int, env []string) (*postmaster.Process, error) {
	hba, err := o.trustHBA()
	if err != nil {
		return nil, err
	}
	args := append(o.serverOptions(hba), "-p", fmt.Sprint(port))
	srv, err := postmaster.Start(postmaster.Options{Postgres: postgres, PGData: data, Args: args, Env: env,
		Stdout: o.Stdout, Stderr: o.Stdout, Reaper: o.Reaper})
	if err != nil {
		return nil, err
	}
	if err := srv.WaitReady(ctx); err != nil {
		if !srv.Exited() {
			srv.Stop(postmaster.Fast, o.stopBudget(), nil, nil)
		}
		return nil, fmt.Errorf("temporary server on %s: %w", data, err)
	}
	return srv, nil
}

// stopServer stops a temporary server (fast) and reports an unclean stop.
func (o *Options) stopServer(srv *postmaster.Process) error {
	res := srv.Stop(postmaster.Fast, o.stopBudget(), nil, nil)
	if code := srv.ExitCode(); code != 0 || res.Escalated {
		return fmt.Errorf("temporary server did not stop cleanly (%s, %s shutdown)", srv.Describe(), res.Final)
	}
	return nil
}

// stopLeftovers stops servers pg_upgrade (pg_ctl starts them in sessions
// of their own) or an earlier, killed run left on the clusters.
func (o *Options) stopLeftovers() {
	p := pathsOf(o.PGData)
	for _, d := range []string{p.pgdata, p.newData()} {
		if r := postmaster.StopOrphan(d, o.stopBudget(), nil); r.PID > 0 {
			o.Log.Warn("upgrade: stopped a server left running on " + d)
		}
	}
}

func (o *Options) stopBudget() time.Duration {
	if o.StopBudget > 0 {
		return o.StopBudget
	}
	return 30 * time.Second
}

// clearStaleSocketLocks removes, from the private socket directory, the
// socket lock files (and sockets) of postmasters that are gone or are
// zombies: a killed upgrade's server that nobody has reaped yet (pgdock
// not running as PID 1) still passes PostgreSQL's kill(pid, 0) check, and
// its lock would make the next temporary server on that port refuse to
// start. A live postmaster's lock is left alone.
func clearStaleSocketLocks(dir string) {
	locks, _ := filepath.Glob(filepath.Join(dir, ".s.PGSQL.*.lock"))
	for _, lock := range locks {
		data, err := os.ReadFile(lock)
		if err != nil {
			continue
		}
		first, _, _ := strings.Cut(string(data), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil || pid <= 0 || !deadOrZombie(pid) {
			continue
		}
		_ = os.Remove(strings.TrimSuffix(lock, ".lock"))
		_ = os.Remove(lock)
	}
}

// deadOrZombie reports whether pid is gone or a zombie.
func deadOrZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	i := strings.LastIndexByte(string(data), ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'Z'
}
