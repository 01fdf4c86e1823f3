package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/healthcheck/internal/pgtest"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// pgdock's local rule and ident map, as the entrypoint writes them when it
// chooses peer for the socket (entrypoint/internal/cluster).
const (
	pgdockHBA   = "local all all peer map=pgdock"
	pgdockIdent = "pgdock  root       postgres\npgdock  postgres   postgres\npgdock  /^(.*)$     \\1\n"
)

// The healthcheck run as any uid (root, the server's own user, a named user
// outside the ident map, a uid without a passwd entry as with docker
// --user 12345:0) against a real PostgreSQL 15 with pgdock's peer rule:
// every probe is healthy and the server log stays free of FATAL lines
// ("Peer authentication failed" on every probe before).
func TestProbesAsAnyUIDLeaveNoFatalInServerLog(t *testing.T) {
	pgtest.NeedRoot(t, "runs the healthcheck as other uids")
	pg.Need(t)
	env := pg.Env
	base, err := env.TempDir()
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	data, sock := filepath.Join(base, "data"), filepath.Join(base, "sock")
	require.NoError(t, env.Mkdir(data))
	require.NoError(t, env.Mkdir(sock))
	require.NoError(t, os.Chmod(sock, 0o755)) // every uid may reach the socket, as in /var/run/postgresql
	require.NoError(t, env.InitDB(data, pgdockHBA))
	require.NoError(t, env.WriteFile(filepath.Join(data, "pg_ident.conf"), pgdockIdent))
	port, err := pgtest.FreePort()
	require.NoError(t, err)
	srv, err := env.Start(data, sock, port, filepath.Join(base, "server.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })

	// The state dir and the binary, where every uid can read them.
	stateDir := filepath.Join(base, "state")
	require.NoError(t, os.Mkdir(stateDir, 0o755))
	require.NoError(t, state.Write(stateDir, state.State{
		Phase: state.PhaseRunning, Mode: "direct", PID: os.Getpid(), PostmasterPID: srv.PID(),
		PGData: data, Port: port, SocketDir: sock, User: "postgres",
	}))
	require.NoError(t, os.Chmod(state.Path(stateDir), 0o644))
	bin := filepath.Join(base, "pgdock-healthcheck")
	copyFile(t, binary, bin, 0o755)

	logBefore := len(srv.Log())
	for _, who := range []struct {
		name string
		cred *syscall.Credential
	}{
		{name: "root"},
		{name: "postgres (the server's user)", cred: env.Credential},
		{name: "1000:1000 (named, outside the ident map)", cred: &syscall.Credential{Uid: 1000, Gid: 1000}},
		{name: "12345:0 (no passwd entry)", cred: &syscall.Credential{Uid: 12345, Gid: 0}},
	} {
		t.Run(who.name, func(t *testing.T) {
			for _, check := range []string{"readiness", "postgresql", "comprehensive"} {
				for range 3 {
					code, out := runAs(t, bin, who.cred, "--state-dir", stateDir, "--disk-min-free-percent", "0", "--disk-min-free-mb", "0", check)
					assert.Equal(t, 0, code, out)
					assert.Regexp(t, `^[0-9a-z]+: OK `+check+`: `, out)
				}
			}
		})
	}
	// A FATAL is written to the log before the client gets the error, and
	// every probe above has waited for its answer: nothing is pending.
	log := srv.Log()[logBefore:]
	assert.NotContains(t, log, "FATAL")
	assert.NotContains(t, log, "authentication failed")
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// runAs runs bin as cred (nil: as this process) and returns its exit code
// and output.
func runAs(t *testing.T, bin string, cred *syscall.Credential, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v as %v: %v", args, cred, err)
	}
	who := "root"
	if cred != nil {
		who = strconv.Itoa(int(cred.Uid))
	}
	return cmd.ProcessState.ExitCode(), who + ": " + out.String()
}

// Run as an arbitrary uid without PGDOCK_STATE_DIR, the healthcheck finds
// the state where the entrypoint run as that uid puts it (state.ResolveDir:
// /run/pgdock when that uid may use it, else /tmp/pgdock-<uid>).
func TestStateDirWithoutEnvAsArbitraryUID(t *testing.T) {
	pgtest.NeedRoot(t, "runs the healthcheck as another uid")
	const uid = 23456
	bin := filepath.Join(t.TempDir(), "pgdock-healthcheck")
	require.NoError(t, os.Chmod(filepath.Dir(bin), 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755))
	copyFile(t, binary, bin, 0o755)
	dir := state.ResolveDir("", uid)
	if dir != state.FallbackDir(uid) {
		// This host's /run/pgdock is usable by any uid (mode 3777, as in the
		// image): the healthcheck must look there; the test writes nothing.
		code, out := runAs(t, bin, &syscall.Credential{Uid: uid, Gid: 0}, "liveness")
		if code != 0 {
			assert.Contains(t, out, state.Path(dir))
		}
		return
	}
	_, err := os.Lstat(dir)
	require.True(t, os.IsNotExist(err), "%s exists already; not touching it", dir)
	require.NoError(t, os.Mkdir(dir, 0o700))
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chown(dir, uid, 0))
	require.NoError(t, state.Write(dir, state.State{Phase: state.PhaseSleeping, Mode: "sleep", PID: os.Getpid()}))
	require.NoError(t, os.Chown(state.Path(dir), uid, 0))
	code, out := runAs(t, bin, &syscall.Credential{Uid: uid, Gid: 0}, "liveness")
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `^23456: OK liveness: entrypoint pid \d+ alive \(phase sleeping\)`, out)
}
