package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

var (
	binary      string // pgdock-entrypoint under test
	healthcheck string // pgdock-healthcheck
	pluginDir   string // the example plugin and its SHA256SUMS
)

func TestMain(m *testing.M) {
	// Built plugins and their SHA256SUMS must not be group-writable (the
	// entrypoint refuses them), whatever the caller's umask.
	syscall.Umask(0o022)
	dir, err := os.MkdirTemp("", "pgdock-it-")
	if err != nil {
		panic(err)
	}
	_ = os.Chmod(dir, 0o755)
	binary = filepath.Join(dir, "pgdock-entrypoint")
	args := []string{"build"}
	if cov := os.Getenv("PGDOCK_COVERDIR"); cov != "" {
		args = append(args, "-cover", "-coverpkg=github.com/pgdock/pgdock/entrypoint/...")
	}
	healthcheck = filepath.Join(dir, "pgdock-healthcheck")
	pluginDir = filepath.Join(dir, "plugins")
	example := filepath.Join(pluginDir, "pgdock-plugin-example")
	if err := os.MkdirAll(pluginDir, 0o755); err != nil {
		panic(err)
	}
	for _, b := range []struct{ out, dir, pkg string }{
		{binary, "", "../cmd/pgdock-entrypoint"},
		{healthcheck, "../../healthcheck", "./cmd/pgdock-healthcheck"},
		{example, "../../plugins/example", "./cmd/pgdock-plugin-example"},
	} {
		a := append([]string{}, args...)
		if b.out != binary {
			a = []string{"build", "-C", b.dir} // in its own module: works with and without go.work
		}
		build := exec.Command("go", append(a, "-o", b.out, b.pkg)...)
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			panic("build " + b.pkg + ": " + err.Error())
		}
	}
	sum := exec.Command("sh", "-c", "sha256sum pgdock-plugin-* > SHA256SUMS")
	sum.Dir = pluginDir
	if out, err := sum.CombinedOutput(); err != nil {
		panic("checksums: " + string(out))
	}
	_ = os.Chmod(pluginDir, 0o755)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// site is one test's directories and port.
type site struct {
	t      *testing.T
	pg     testpg.Env
	base   string
	PGData string
	Port   int
	Socket string
	State  string
	Initdb string
	Conf   string
	env    map[string]string
}

func newSite(t *testing.T) *site {
	t.Helper()
	pg := testpg.Setup(t)
	// A short base keeps unix socket paths (plugins, server) under 108 bytes.
	base, err := os.MkdirTemp("", "pgd-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	s := &site{t: t, pg: pg, base: base,
		PGData: filepath.Join(base, "data"), Port: testpg.FreePort(t),
		Socket: filepath.Join(base, "sock"), State: filepath.Join(base, "st"), // short: plugin socket paths must stay under 108 bytes
		Initdb: filepath.Join(base, "initdb.d"), Conf: filepath.Join(base, "conf")}
	require.NoError(t, os.MkdirAll(s.Initdb, 0o755))
	require.NoError(t, os.MkdirAll(s.Conf, 0o755))
	s.env = map[string]string{
		"PATH":                               os.Getenv("PATH"),
		"LANG":                               "C.UTF-8",
		"PGDATA":                             s.PGData,
		"PGPORT":                             strconv.Itoa(s.Port),
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": s.Socket,
		"PGDOCK_STATE_DIR":                   s.State,
		"PGDOCK_INITDB_DIR":                  s.Initdb,
		"PGCONFIG":                           s.Conf,
		"PGDOCK_PLUGIN_DIR":                  filepath.Join(base, "plugins"),
		"POSTGRESQL_CONFIG_FSYNC":            "off",       // tests only: faster, nothing here needs durability
		"POSTGRES_INITDB_ARGS":               "--no-sync", // likewise
	}
	if cov := os.Getenv("PGDOCK_COVERDIR"); cov != "" {
		s.env["GOCOVERDIR"] = cov
	}
	return s
}

func (s *site) set(kv ...string) *site {
	for i := 0; i+1 < len(kv); i += 2 {
		s.env[kv[i]] = kv[i+1]
	}
	return s
}

func (s *site) unset(k ...string) *site {
	for _, x := range k {
		delete(s.env, x)
	}
	return s
}

func (s *site) script(name, content string, mode os.FileMode) {
	require.NoError(s.t, os.WriteFile(filepath.Join(s.Initdb, name), []byte(content), mode))
}

// proc is one run of the entrypoint.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	out   *syncBuf
	done  chan struct{}
	code  int
	start time.Time
}

func (s *site) start(args ...string) *proc { return s.startAs(nil, args...) }

func (s *site) startAs(cred *syscall.Credential, args ...string) *proc {
	s.t.Helper()
	return s.startIn(&syscall.SysProcAttr{Setpgid: true, Credential: cred}, args...)
}

// startIn starts the entrypoint with attr (which must set Setpgid).
func (s *site) startIn(attr *syscall.SysProcAttr, args ...string) *proc {
	s.t.Helper()
	cmd := exec.Command(binary, args...)
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = attr
	// A postmaster that outlives a SIGKILLed entrypoint keeps the output
	// pipe open: stop waiting for it a moment after the entrypoint exited.
	cmd.WaitDelay = 3 * time.Second
	require.NoError(s.t, cmd.Start())
	p := &proc{t: s.t, cmd: cmd, out: out, done: make(chan struct{}), start: time.Now()}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = 128 + int(ws.Signal())
		}
		close(p.done)
	}()
	s.t.Cleanup(func() {
		if !p.exited() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		// kill any server left in the group of a killed entrypoint
		if pid := postmasterPID(s.PGData); pid > 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
		if s.t.Failed() {
			s.t.Logf("entrypoint output:\n%s", out.String())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// run starts the entrypoint and waits for it to exit.
func (s *site) run(args ...string) (int, string) {
	s.t.Helper()
	p := s.start(args...)
	return p.wait(60 * time.Second), p.out.String()
}

func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		p.t.Fatalf("entrypoint still running after %s; output:\n%s", d, p.out.String())
		return -1
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// waitFor waits until the output contains want `count` times.
func (p *proc) waitFor(want string, count int, d time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Count(p.out.String(), want) >= count {
			return
		}
		if p.exited() && strings.Count(p.out.String(), want) < count {
			p.t.Fatalf("entrypoint exited (code %d) before printing %q %d times; output:\n%s", p.code, want, count, p.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.t.Fatalf("timed out waiting for %q ×%d; output:\n%s", want, count, p.out.String())
}

// ready waits for pgdock's own ready line.
func (p *proc) ready() { p.t.Helper(); p.waitFor("PostgreSQL is ready", 1, 90*time.Second) }

// connConfig is a TCP connection config with a password and no TLS.
func (s *site) connConfig(user, password, db string) *pgx.ConnConfig {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		panic(err)
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = "127.0.0.1", uint16(s.Port), user, password, db
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	return cfg
}

func connectConfig(cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.ConnectConfig(ctx, cfg)
}

// connect opens a TCP connection with a password.
func (s *site) connect(user, password, db string) (*pgx.Conn, error) {
	return connectConfig(s.connConfig(user, password, db))
}

func (s *site) query(user, password, db, sql string) string {
	s.t.Helper()
	c, err := s.connect(user, password, db)
	require.NoError(s.t, err)
	defer c.Close(context.Background())
	var out string
	require.NoError(s.t, c.QueryRow(context.Background(), sql).Scan(&out))
	return out
}

func postmasterPID(pgdata string) int {
	data, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(data), "\n", 2)[0])
	return pid
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fileState is what a snapshot records of one path.
type fileState struct {
	Mode  os.FileMode
	UID   uint32
	GID   uint32
	MTime time.Time
	Sum   string // sha256 of a regular file's content; a symlink's target
}

// snapshot records every entry under the roots (missing roots are empty).
func snapshot(t *testing.T, roots ...string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return nil
			}
			st := fi.Sys().(*syscall.Stat_t)
			fs := fileState{Mode: fi.Mode(), UID: st.Uid, GID: st.Gid, MTime: fi.ModTime()}
			switch {
			case fi.Mode().IsRegular():
				b, err := os.ReadFile(p)
				require.NoError(t, err)
				h := sha256.Sum256(b)
				fs.Sum = hex.EncodeToString(h[:])
			case fi.Mode()&os.ModeSymlink != 0:
				fs.Sum, _ = os.Readlink(p)
			}
			out[p] = fs
			return nil
		})
	}
	return out
}

// groupGone waits until no process of process group pgid is left (killed
// processes may be zombies for a moment).
func groupGone(pgid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// gone waits until pid no longer exists (or is a zombie of someone else's).
func gone(pid int) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(data), ") Z ") {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
