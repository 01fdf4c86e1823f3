package pgtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pgdock/pgdock/healthcheck/internal/pgwire"
)

// EnvBinDir overrides where the PostgreSQL server binaries are.
const EnvBinDir = "PGDOCK_PG_BINDIR"

// DefaultBinDir is Debian's PostgreSQL 15 server directory.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// Env is a PostgreSQL installation and the identity to run it as.
type Env struct {
	BinDir     string
	Credential *syscall.Credential // nil unless the tests run as root
}

// Find locates PostgreSQL; its error is the reason to skip.
func Find() (Env, error) {
	if Short() {
		return Env{}, fmt.Errorf("-short: tests that run a real PostgreSQL are skipped")
	}
	dir := os.Getenv(EnvBinDir)
	if dir == "" {
		dir = DefaultBinDir
	}
	for _, b := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return Env{}, fmt.Errorf("PostgreSQL 15 server binaries not found in %s (install postgresql-15 with scripts/deps.sh, or set %s): %w", dir, EnvBinDir, err)
		}
	}
	e := Env{BinDir: dir}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return Env{}, fmt.Errorf("running as root but there is no postgres OS user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		e.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return e, nil
}

// Chown gives path to the server's user (no-op unless root).
func (e Env) Chown(path string) error {
	if e.Credential == nil {
		return nil
	}
	if err := os.Chown(path, int(e.Credential.Uid), int(e.Credential.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// TempDir makes a short-named temporary directory (unix socket paths are
// limited to 107 bytes) that the server's user owns.
func (e Env) TempDir() (string, error) {
	dir, err := os.MkdirTemp("", "pgdock-hc-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	return dir, e.Chown(dir)
}

// Mkdir makes dir, mode 0700, owned by the server's user.
func (e Env) Mkdir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	return e.Chown(dir)
}

func (e Env) command(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(e.BinDir, name), args...)
	c.SysProcAttr = &syscall.SysProcAttr{Credential: e.Credential}
	c.Env = append(os.Environ(), "LC_ALL=C")
	return c
}

// InitDB creates a cluster in dataDir (superuser postgres, trust locally)
// and puts hbaFirst lines in front of pg_hba.conf.
func (e Env) InitDB(dataDir string, hbaFirst ...string) error {
	out, err := e.command("initdb", "--no-sync", "-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, out)
	}
	if len(hbaFirst) == 0 {
		return nil
	}
	hba := filepath.Join(dataDir, "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		return fmt.Errorf("pg_hba: %w", err)
	}
	content := strings.Join(hbaFirst, "\n") + "\n" + string(old)
	if err := os.WriteFile(hba, []byte(content), 0o600); err != nil {
		return fmt.Errorf("pg_hba: %w", err)
	}
	return nil
}

// CopyCluster copies a stopped cluster, ownership included.
func (e Env) CopyCluster(src, dst string) error {
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		return fmt.Errorf("cp -a: %w: %s", err, out)
	}
	return nil
}

// WriteFile writes a file the server's user owns.
func (e Env) WriteFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return e.Chown(path)
}

// FreePort returns a TCP port nobody listens on right now. The servers here
// listen on sockets only, but the port still names the socket file.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is a running postgres.
type Server struct {
	DataDir   string
	SocketDir string
	Port      int
	LogPath   string
	cmd       *exec.Cmd
	done      chan error
}

// PID is the postmaster's pid.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// SocketPath is the server's unix socket.
func (s *Server) SocketPath() string { return pgwire.SocketPath(s.SocketDir, s.Port) }

// Log returns what the server has logged so far.
func (s *Server) Log() string {
	data, _ := os.ReadFile(s.LogPath)
	return string(data)
}

// Start runs postgres on dataDir, socket-only in sockDir, with extra -c
// settings ("name=value"), logging to logPath, and waits until the server
// accepts connections.
func (e Env) Start(dataDir, sockDir string, port int, logPath string, settings ...string) (*Server, error) {
	accepting := func(r pgwire.Response) bool { return r.Status == pgwire.Accepting }
	return e.start(dataDir, sockDir, port, logPath, accepting, settings)
}

// start is Start waiting until ready holds for a ping's response.
func (e Env) start(dataDir, sockDir string, port int, logPath string, ready func(pgwire.Response) bool, settings []string) (*Server, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	args := []string{"-D", dataDir, "-k", sockDir, "-p", strconv.Itoa(port), "-c", "listen_addresses=", "-c", "fsync=off"}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	cmd := e.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT // never outlive a crashed test binary
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &Server{DataDir: dataDir, SocketDir: sockDir, Port: port, LogPath: logPath, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		resp, err := pgwire.Ping(pctx, "unix", s.SocketPath(), pgwire.Params{User: "postgres", Database: "postgres"})
		pcancel()
		if err == nil && ready(resp) {
			return s, nil
		}
		if err == nil {
			err = fmt.Errorf("%s: %s", resp.Status, resp.Message)
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return nil, fmt.Errorf("postgres exited: %v; log:\n%s", werr, s.Log())
		case <-ctx.Done():
			_ = s.Stop()
			return nil, fmt.Errorf("postgres did not answer within 60s: %w; log:\n%s", err, s.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop shuts the server down fast (SIGINT) and waits; SIGKILL after 30s.
func (s *Server) Stop() error {
	select {
	case err := <-s.done: // already gone
		s.done <- err
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case err := <-s.done:
		s.done <- err
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("postgres did not stop within 30s; killed")
	}
}

// Short reports whether the tests run with -short, also from a TestMain,
// before the testing flags are parsed.
func Short() bool {
	if flag.Parsed() {
		return testing.Short()
	}
	for _, a := range os.Args[1:] {
		switch strings.TrimLeft(a, "-") {
		case "test.short", "test.short=true":
			return true
		}
	}
	return false
}
