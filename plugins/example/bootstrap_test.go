package example

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// testServer is a socket-only PostgreSQL server in a temporary directory,
// like the entrypoint's temporary bootstrap server.
type testServer struct {
	bin, data, sock string
	port            int
	cred            *syscall.Credential // run server tools as postgres when we are root
}

func pgBinDir(t *testing.T) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	sdktest.Missing(t, "PostgreSQL server binaries not installed (/usr/lib/postgresql/*/bin/initdb); scripts/deps.sh installs them")
	return ""
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs a real PostgreSQL")
	}
	sdktest.NeedTool(t, "psql", "postgresql-client")
	s := &testServer{bin: pgBinDir(t), port: 45000 + os.Getpid()%10000}
	root := t.TempDir()
	s.data, s.sock = filepath.Join(root, "data"), filepath.Join(root, "sock")
	require.NoError(t, os.Mkdir(s.sock, 0o700))
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			sdktest.Missing(t, "running as root and there is no postgres OS user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// t.TempDir's parent is private to root; the server must traverse it.
		require.NoError(t, os.Chmod(filepath.Dir(root), 0o711))
		require.NoError(t, os.Chmod(root, 0o755))
		require.NoError(t, os.Chown(root, uid, gid))
		require.NoError(t, os.Chown(s.sock, uid, gid))
	}
	s.run(t, "initdb", "-D", s.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	s.run(t, "pg_ctl", "-D", s.data, "-w", "-l", filepath.Join(s.data, "log"), "start",
		"-o", fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -p %d -c fsync=off", s.sock, s.port))
	t.Cleanup(func() { s.run(t, "pg_ctl", "-D", s.data, "-m", "immediate", "-w", "stop") })
	return s
}

func (s *testServer) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", tool, out)
}

func (s *testServer) query(t *testing.T, sql string) string {
	t.Helper()
	out, err := exec.Command("psql", "-X", "-At", "-h", s.sock, "-p", strconv.Itoa(s.port), "-U", "postgres", "-d", "postgres", "-c", sql).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return strings.TrimSpace(string(out))
}

func TestBootstrapRecordsItsOnlyRun(t *testing.T) {
	s := startServer(t)
	p := New(hclog.NewNullLogger(), os.Getenv)
	req := sdk.HookRequest{
		Env:  map[string]string{EnvGreeting: "it's me"},
		Conn: sdk.Conn{SocketDir: s.sock, Port: s.port, User: "postgres", Database: "postgres", PGData: s.data},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	require.NoError(t, p.Bootstrap(ctx, req))
	assert.Equal(t, "1|it's me", s.query(t, "SELECT count(*), max(greeting) FROM "+BootstrapTable))

	err := p.Bootstrap(ctx, req)
	require.Error(t, err, "a second bootstrap must fail loudly")
	assert.Contains(t, err.Error(), "already ran")
	assert.Equal(t, "1", s.query(t, "SELECT count(*) FROM "+BootstrapTable), "the failed second run changed nothing")
}
