package postmaster

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newReaper runs a reaper for the test (after any helper that runs
// commands on its own, such as testpg's initdb, has finished).
func newReaper(t *testing.T) *reaper.Reaper {
	r, stop := reaper.Background(nil)
	t.Cleanup(stop)
	return r
}

type server struct {
	*Process
	sock string
	port int
}

func startServer(t *testing.T, extra ...string) (server, *syncBuf) {
	env := testpg.Setup(t)
	pgdata := env.Initdb(t)
	sock := env.Dir(t, "sock")
	port := testpg.FreePort(t)
	var out syncBuf
	args := append([]string{"-c", "listen_addresses=", "-k", sock, "-p", strconv.Itoa(port)}, extra...)
	p, err := Start(Options{Postgres: env.Bin.Postgres, PGData: pgdata, Args: args, Env: os.Environ(), Stdout: &out, Stderr: &out, Credential: env.Credential, Reaper: newReaper(t)})
	require.NoError(t, err)
	t.Cleanup(func() { p.KillGroup(syscall.SIGKILL); <-p.Done() })
	return server{Process: p, sock: sock, port: port}, &out
}

func TestStartReadyStopFast(t *testing.T) {
	p, out := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, p.WaitReady(ctx))
	// PostgreSQL writes "ready" into postmaster.pid (what WaitReady reads)
	// before it logs the line, and the log crosses a pipe.
	assert.Eventually(t, func() bool {
		return strings.Contains(out.String(), "database system is ready to accept connections")
	}, 10*time.Second, 10*time.Millisecond, out.String())
	var steps []Mode
	res := p.Stop(Fast, 20*time.Second, nil, func(m Mode) { steps = append(steps, m) })
	assert.Equal(t, Fast, res.Final)
	assert.False(t, res.Escalated)
	assert.Equal(t, []Mode{Fast}, steps)
	assert.Equal(t, 0, p.ExitCode())
	assert.Contains(t, out.String(), "received fast shutdown request")
}

func TestWaitReadyReportsEarlyExit(t *testing.T) {
	p, _ := startServer(t, "-c", "no_such_setting_xyz=1")
	err := p.WaitReady(context.Background())
	assert.ErrorIs(t, err, ErrExited)
	assert.NotEqual(t, 0, p.ExitCode())
}

// A smart shutdown waits for open sessions; a second stop request moves the
// ladder up one rung at once (fast), long before the budget would.
func TestEscalationOnSecondRequest(t *testing.T) {
	p, out := startServer(t)
	require.NoError(t, p.WaitReady(context.Background()))
	cfg, err := pgx.ParseConfig("")
	require.NoError(t, err)
	cfg.Host, cfg.Port, cfg.User, cfg.Database = p.sock, uint16(p.port), "postgres", "postgres"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err, "a session that keeps the smart shutdown waiting")
	defer conn.Close(context.Background())

	esc := make(chan struct{}, 1)
	var steps []Mode
	res := p.Stop(Smart, time.Hour, esc, func(m Mode) {
		steps = append(steps, m)
		if m == Smart {
			// The second request arrives once smart shutdown is under way,
			// which the open session holds up.
			go func() {
				require.Eventually(t, func() bool { return strings.Contains(out.String(), "received smart shutdown request") }, 30*time.Second, 5*time.Millisecond)
				esc <- struct{}{}
			}()
		}
	})
	assert.Equal(t, []Mode{Smart, Fast}, steps, "exactly one rung up per request")
	assert.Equal(t, Fast, res.Final)
	assert.True(t, res.Escalated)
	assert.Less(t, res.Took, time.Minute, "the hour-long budget was not waited for")
	assert.Equal(t, 0, p.ExitCode(), "a fast shutdown is clean")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "received fast shutdown request") }, 10*time.Second, 5*time.Millisecond)
}

func TestLadderReachesKill(t *testing.T) {
	// A process that ignores every catchable signal stands in for a hung server.
	hung := startShell(t, newReaper(t), "trap '' TERM INT QUIT; echo trapped; while :; do sleep 0.05; done")
	var steps []Mode
	res := hung.Stop(Fast, 400*time.Millisecond, nil, func(m Mode) { steps = append(steps, m) })
	assert.Equal(t, []Mode{Fast, Immediate, Kill}, steps)
	assert.Equal(t, Kill, res.Final)
	assert.True(t, res.Escalated)
	assert.Equal(t, 128+9, hung.ExitCode())
	assert.Less(t, res.Took, 2*time.Second)
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"smart": Smart, "FAST": Fast, "": Fast, "Immediate": Immediate} {
		got, err := ParseMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := ParseMode("graceful")
	assert.ErrorContains(t, err, "smart, fast or immediate")
}

// A postmaster that stays "starting" (a long crash recovery) is waited for as
// long as it lives. The stand-in is a shell script (a fake postgres) that
// writes postmaster.pid the way the server does.
func TestWaitReadyWaitsForSlowRecovery(t *testing.T) {
	dir := t.TempDir()
	script := `echo "$$
$2
1
5432
/tmp
*
  1 0
starting" > "$2/postmaster.pid"
while [ ! -e "$2/recovered" ]; do sleep 0.01; done
sed -i 's/^starting$/ready   /' "$2/postmaster.pid"
sleep 30`
	fake := dir + "/fake-postgres"
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	p, err := Start(Options{Postgres: fake, PGData: dir, Env: os.Environ(), Reaper: newReaper(t)})
	require.NoError(t, err)
	t.Cleanup(func() { p.KillGroup(syscall.SIGKILL); <-p.Done() })
	ready := make(chan error, 1)
	go func() { ready <- p.WaitReady(context.Background()) }()
	// While the status says "starting", WaitReady keeps waiting, well past
	// the first phase of fast polling.
	require.Eventually(t, func() bool {
		i, err := pidfile.Read(dir)
		return err == nil && i.Status == pidfile.StatusStarting
	}, 10*time.Second, 5*time.Millisecond)
	select {
	case err := <-ready:
		t.Fatalf("ready while the status still says starting: %v", err)
	case <-time.After(3 * time.Second): // a window to observe that nothing happens
	}
	require.NoError(t, os.WriteFile(dir+"/recovered", nil, 0o600))
	select {
	case err := <-ready:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after the status changed")
	}
	assert.False(t, p.Exited())
}
