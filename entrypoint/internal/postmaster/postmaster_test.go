package postmaster

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startServer(t *testing.T, extra ...string) (*Process, *syncBuf) {
	env := testpg.Setup(t)
	pgdata := env.Initdb(t)
	sock := env.Dir(t, "sock")
	var out syncBuf
	args := append([]string{"-c", "listen_addresses=", "-k", sock, "-p", strconv.Itoa(testpg.FreePort(t))}, extra...)
	p, err := Start(Options{Postgres: env.Bin.Postgres, PGData: pgdata, Args: args, Env: os.Environ(), Stdout: &out, Stderr: &out, Credential: env.Credential})
	require.NoError(t, err)
	t.Cleanup(func() { p.KillGroup(syscall.SIGKILL); <-p.Done() })
	return p, &out
}

func TestStartReadyStopFast(t *testing.T) {
	p, out := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, p.WaitReady(ctx))
	assert.Contains(t, out.String(), "database system is ready to accept connections")
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

func TestEscalationOnSecondRequest(t *testing.T) {
	p, _ := startServer(t)
	require.NoError(t, p.WaitReady(context.Background()))
	// A smart shutdown waits for sessions; hold one open with a psql that never ends
	// is not needed: ask for escalation right away instead.
	esc := make(chan struct{}, 1)
	esc <- struct{}{}
	var steps []Mode
	res := p.Stop(Smart, time.Minute, esc, func(m Mode) { steps = append(steps, m) })
	require.GreaterOrEqual(t, len(steps), 1)
	assert.Equal(t, Smart, steps[0])
	assert.Less(t, res.Took, 30*time.Second)
}

func TestLadderReachesKill(t *testing.T) {
	// A process that ignores every catchable signal stands in for a hung server.
	cmd := []string{"-c", "trap '' TERM INT QUIT; while :; do sleep 0.05; done"}
	hung := &Process{pgdata: "/nonexistent", done: make(chan struct{})}
	c := execShell(t, cmd)
	hung.cmd = c
	go func() { _ = c.Wait(); hung.state = c.ProcessState; close(hung.done) }()
	time.Sleep(100 * time.Millisecond) // let the trap be installed
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
sleep 2.5
sed -i 's/^starting$/ready   /' "$2/postmaster.pid"
sleep 30`
	fake := dir + "/fake-postgres"
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	p, err := Start(Options{Postgres: fake, PGData: dir, Env: os.Environ()})
	require.NoError(t, err)
	t.Cleanup(func() { p.KillGroup(syscall.SIGKILL); <-p.Done() })
	start := time.Now()
	require.NoError(t, p.WaitReady(context.Background()))
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "no premature readiness")
	assert.False(t, p.Exited())
}
