package pgserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// Password is the superuser postgres's password on every server: quotes and
// a backslash, so that whatever passes it on must encode it.
const Password = "pw'with\\odd chars"

// Env is the PostgreSQL installation the servers run from.
type Env struct {
	Bin      string // the newest /usr/lib/postgresql/<major>/bin
	cred     *syscall.Credential
	uid, gid int
}

// The template cluster, made once per test binary (Run removes it).
var template struct {
	once sync.Once
	dir  string
	err  error
}

// Run is a TestMain body: it runs the tests, then removes the template.
func Run(m *testing.M) int {
	code := m.Run()
	if template.dir != "" {
		os.RemoveAll(template.dir)
	}
	return code
}

// Find returns the newest installed PostgreSQL, or ends t (-short: skip;
// not installed: sdktest.Missing).
func Find(t *testing.T) Env {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real PostgreSQL")
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	if len(dirs) == 0 {
		sdktest.Missing(t, "PostgreSQL is not installed (Debian package postgresql-15)")
	}
	e := Env{Bin: filepath.Dir(dirs[0]), uid: os.Getuid(), gid: os.Getgid()}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			sdktest.Missing(t, "the tests run as root and there is no postgres OS user to run PostgreSQL as")
		}
		e.uid, _ = strconv.Atoi(u.Uid)
		e.gid, _ = strconv.Atoi(u.Gid)
		e.cred = &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.gid)}
	}
	return e
}

func majorOf(initdb string) int {
	m, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return m
}

func (e Env) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.Bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", name, args, out)
}

func (e Env) mkdir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgserver-")
	require.NoError(t, err)
	require.NoError(t, os.Chown(d, e.uid, e.gid))
	require.NoError(t, os.Chmod(d, 0o700))
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is one PostgreSQL server: data in Dir/data, socket in Dir.
type Server struct {
	Port int
	Dir  string
	t    *testing.T
	e    Env
	up   bool
}

// New copies the template cluster (superuser postgres with Password; local
// trust, host scram-sha-256) for a server on port; Start starts it, and the
// test's cleanup stops it.
func New(t *testing.T, e Env, port int) *Server {
	t.Helper()
	template.once.Do(func() {
		d, err := os.MkdirTemp("", "pgserver-tpl-")
		if err != nil {
			template.err = err
			return
		}
		template.dir = d
		_ = os.Chown(d, e.uid, e.gid)
		s := &Server{t: t, e: e, Dir: d, Port: FreePort(t)}
		e.run(t, "initdb", "-D", s.Data(), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
		s.Start()
		conn := s.Connect("postgres")
		_, template.err = conn.Exec(context.Background(), "ALTER ROLE postgres PASSWORD "+quoteLiteral(Password))
		conn.Close(context.Background())
		s.Stop()
	})
	require.NoError(t, template.err)
	dir := e.mkdir(t)
	out, err := exec.Command("cp", "-a", filepath.Join(template.dir, "data"), dir).CombinedOutput()
	require.NoError(t, err, string(out))
	s := &Server{t: t, e: e, Dir: dir, Port: port}
	t.Cleanup(s.Stop)
	return s
}

// quoteLiteral is an E” string literal (ALTER ROLE takes no parameters).
func quoteLiteral(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Data is the data directory.
func (s *Server) Data() string { return filepath.Join(s.Dir, "data") }

// Start starts the server with extra settings ("name=value"), waiting until
// it accepts connections.
func (s *Server) Start(extra ...string) {
	s.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.Port, s.Dir)
	for _, x := range extra {
		opts += " -c " + x
	}
	s.e.run(s.t, "pg_ctl", "-D", s.Data(), "-w", "-t", "60", "-l", filepath.Join(s.Dir, "log"), "start", "-o", opts)
	s.up = true
}

// Stop stops the server at once (immediate mode); a stopped server is left
// alone.
func (s *Server) Stop() {
	if !s.up {
		return
	}
	s.up = false
	cmd := exec.Command(filepath.Join(s.e.Bin, "pg_ctl"), "-D", s.Data(), "-m", "immediate", "-w", "stop")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.e.cred}
	_ = cmd.Run()
}

// Conn is the connection a hook receives for this server.
func (s *Server) Conn() sdk.Conn {
	return sdk.Conn{SocketDir: s.Dir, Port: s.Port, User: "postgres", Database: "postgres", PGData: s.Data()}
}

// Connect opens a session in db over the socket; the test closes it.
func (s *Server) Connect(db string) *pgx.Conn {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig("")
	require.NoError(s.t, err)
	cfg.Host, cfg.Port, cfg.User, cfg.Database = s.Dir, uint16(s.Port), "postgres", db
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	cfg.RuntimeParams = map[string]string{"application_name": "pgserver"}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(s.t, err, "connect to database %q", db)
	return conn
}

// Exec runs sql in the postgres database.
func (s *Server) Exec(sql string, args ...any) {
	s.t.Helper()
	conn := s.Connect("postgres")
	defer conn.Close(context.Background())
	_, err := conn.Exec(context.Background(), sql, args...)
	require.NoError(s.t, err)
}

// Strings runs a query of one text column in the postgres database.
func (s *Server) Strings(sql string, args ...any) []string {
	s.t.Helper()
	conn := s.Connect("postgres")
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), sql, args...)
	require.NoError(s.t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(s.t, err)
	return out
}
