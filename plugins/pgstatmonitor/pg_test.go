package pgstatmonitor

// Helpers that run real PostgreSQL clusters for the tests (as the postgres
// OS user when the tests run as root). A missing PostgreSQL ends a test
// through sdktest.Missing: a skip, or a failure under PGDOCK_TEST_REQUIRE=1.

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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

const testPassword = "pw'with\\odd chars"

type pgEnv struct {
	bin  string
	cred *syscall.Credential
	uid  int
	gid  int
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

func findPG(t *testing.T) pgEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real PostgreSQL")
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	if len(dirs) == 0 {
		sdktest.Missing(t, "PostgreSQL is not installed (Debian package postgresql-15)")
	}
	e := pgEnv{bin: filepath.Dir(dirs[0]), uid: os.Getuid(), gid: os.Getgid()}
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

func (e pgEnv) run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.cred}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C"}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", name, args, out)
}

func (e pgEnv) mkdir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgsm-pg-")
	require.NoError(t, err)
	require.NoError(t, os.Chown(d, e.uid, e.gid))
	require.NoError(t, os.Chmod(d, 0o700))
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// cluster is one PostgreSQL server: data in dir/data, socket in dir.
type cluster struct {
	t    *testing.T
	e    pgEnv
	dir  string
	port int
	up   bool
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newCluster copies a template cluster (initdb once per test binary; the
// superuser postgres has testPassword; local trust, host scram).
func newCluster(t *testing.T, e pgEnv, port int) *cluster {
	t.Helper()
	templateOnce.Do(func() {
		d, err := os.MkdirTemp("", "pgsm-tpl-")
		if err != nil {
			templateErr = err
			return
		}
		templateDir = d
		_ = os.Chown(d, e.uid, e.gid)
		c := &cluster{t: t, e: e, dir: d, port: freePort(t)}
		e.run(t, "initdb", "-D", c.data(), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
		c.start()
		conn := c.connect("postgres")
		_, templateErr = conn.Exec(context.Background(), "ALTER ROLE postgres PASSWORD "+quoteLiteral(testPassword))
		conn.Close(context.Background())
		c.stop()
	})
	require.NoError(t, templateErr)
	dir := e.mkdir(t)
	cp := exec.Command("cp", "-a", filepath.Join(templateDir, "data"), dir)
	out, err := cp.CombinedOutput()
	require.NoError(t, err, string(out))
	c := &cluster{t: t, e: e, dir: dir, port: port}
	t.Cleanup(c.stop)
	return c
}

func quoteLiteral(s string) string {
	return "E'" + stringsReplace(s) + "'"
}

func stringsReplace(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\'' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) start(extra ...string) {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	for _, x := range extra {
		opts += " -c " + x
	}
	c.e.run(c.t, "pg_ctl", "-D", c.data(), "-w", "-t", "60", "-l", filepath.Join(c.dir, "log"), "start", "-o", opts)
	c.up = true
}

func (c *cluster) stop() {
	if !c.up {
		return
	}
	c.up = false
	cmd := exec.Command(filepath.Join(c.e.bin, "pg_ctl"), "-D", c.data(), "-m", "immediate", "-w", "stop")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.e.cred}
	_ = cmd.Run()
}

func (c *cluster) conn() sdk.Conn {
	return sdk.Conn{SocketDir: c.dir, Port: c.port, User: "postgres", Database: "postgres", PGData: c.data()}
}

func (c *cluster) connect(db string) *pgx.Conn {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := connect(ctx, c.conn(), db)
	require.NoError(c.t, err)
	return conn
}

func (c *cluster) exec(sql string, args ...any) {
	c.t.Helper()
	conn := c.connect("postgres")
	defer conn.Close(context.Background())
	_, err := conn.Exec(context.Background(), sql, args...)
	require.NoError(c.t, err)
}

func (c *cluster) strings(sql string, args ...any) []string {
	c.t.Helper()
	conn := c.connect("postgres")
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), sql, args...)
	require.NoError(c.t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(c.t, err)
	return out
}

func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		os.RemoveAll(templateDir)
	}
	os.Exit(code)
}
