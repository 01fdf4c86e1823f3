package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/healthcheck/internal/proc"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// unmapped makes the runner judge as an OS user outside pgdock's ident map
// would (the tests run as root, which is mapped).
func unmapped(r Runner) Runner {
	r.mapped = func(string) bool { return false }
	return r
}

// fakePGData is a data directory whose postmaster.pid names port and status.
func fakePGData(t *testing.T, pid, port int, status string) string {
	t.Helper()
	dir := t.TempDir()
	content := fmt.Sprintf("%d\n%s\n1700000000\n%d\n/tmp\n\n0 0\n%-8s\n", pid, dir, port, status)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(content), 0o600))
	return dir
}

// For an OS user outside the ident map the verdict comes from the socket's
// answer to an SSLRequest, postmaster.pid's status line and the startup
// process, never from a startup packet (which peer authentication would
// log as a FATAL).
func TestReadinessWithoutStartupPacket(t *testing.T) {
	srv := pg.Need(t)
	up := runningState(srv)
	where := fmt.Sprintf("socket %s, port %d", srv.SocketDir, srv.Port)
	standby, err := pg.StartStandby()
	require.NoError(t, err)
	t.Cleanup(func() { _ = standby.Stop() })
	sbWhere := fmt.Sprintf("socket %s, port %d", standby.SocketDir, standby.Port)
	before := len(srv.Log())
	baseline := postmasterChildren(t, srv.PID())

	tests := []struct {
		name    string
		st      state.State
		healthy bool
		message string
		status  string
	}{
		{name: "ready", st: up, healthy: true, message: "accepting connections (" + where + ")", status: "ready"},
		{name: "postmaster.pid not readable: the socket's answer", st: *with(up, func(s *state.State) { s.PGData = t.TempDir() }),
			healthy: true, message: "accepting connections (" + where + ")", status: "unknown (postmaster.pid not readable here)"},
		{name: "shutting down", st: *with(up, func(s *state.State) { s.PGData = fakePGData(t, srv.PID(), srv.Port, "stopping") }),
			message: "not accepting connections: the database system is shutting down (" + where + ")", status: "stopping"},
		{name: "starting", st: *with(up, func(s *state.State) { s.PGData = fakePGData(t, srv.PID(), srv.Port, "starting") }),
			message: "not accepting connections: the database system is starting up (" + where + ")", status: "starting"},
		{name: "status line not written yet", st: *with(up, func(s *state.State) { s.PGData = fakePGData(t, srv.PID(), srv.Port, "") }),
			message: "not accepting connections: the database system is starting up (" + where + ")", status: ""},
		{name: "postmaster.pid of another port", st: *with(up, func(s *state.State) { s.PGData = fakePGData(t, srv.PID(), srv.Port+1, "stopping") }),
			healthy: true, message: "accepting connections (" + where + ")", status: "unknown (postmaster.pid not readable here)"},
		{name: "standby without hot standby", st: runningState(standby),
			message: "not accepting connections: standby without hot standby (" + sbWhere + ")", status: "standby"},
		{name: "recovery seen from the startup process", st: *with(runningState(standby), func(s *state.State) { s.PGData = t.TempDir() }),
			message: "not accepting connections: the database system is in recovery mode (" + sbWhere + ")", status: "unknown (postmaster.pid not readable here)"},
		{name: "nothing listens", st: *with(up, func(s *state.State) { s.SocketDir = t.TempDir() }), message: "no response (socket "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := unmapped(runner(t, &tc.st, nil))
			for _, name := range []Name{Readiness, PostgreSQL} {
				rep := r.Run(context.Background(), name)
				assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
				assert.True(t, strings.HasPrefix(rep.Message, tc.message), "%q, want prefix %q", rep.Message, tc.message)
				if tc.status != "" || tc.healthy {
					assert.Equal(t, "knock", rep.Checks[0].Details["probe"])
					assert.Equal(t, tc.status, rep.Checks[0].Details["postmaster_status"])
				}
			}
		})
	}
	waitBackendsGone(t, srv.PID(), baseline)
	assert.Empty(t, srv.Log()[before:], "server log after knocks")
}

// postmasterChildren counts the postmaster's child processes.
func postmasterChildren(t *testing.T, pid int) int {
	t.Helper()
	kids, err := proc.Children(pid)
	require.NoError(t, err)
	return len(kids)
}

// waitBackendsGone waits until the postmaster has no more children than
// baseline (its auxiliary processes): every backend a probe made has
// exited, and written whatever it would log on the way out.
func waitBackendsGone(t *testing.T, pid, baseline int) {
	t.Helper()
	require.Eventually(t, func() bool { return postmasterChildren(t, pid) <= baseline }, 10*time.Second, 5*time.Millisecond,
		"backends of the probes still running")
}
