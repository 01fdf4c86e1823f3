package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// pgdataWith is a fake PGDATA holding postmaster.pid with the given status
// line (none when empty) and the named signal files.
func pgdataWith(t *testing.T, status string, signals ...string) string {
	t.Helper()
	dir := t.TempDir()
	if status != "" {
		pid := fmt.Sprintf("%d\n%s\n1700000000\n5432\n/run/postgresql\n*\n  1 2\n%-8s\n", os.Getpid(), dir, status)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(pid), 0o600))
	}
	for _, f := range signals {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o600))
	}
	return dir
}

func TestRole(t *testing.T) {
	// An entrypoint (this process) that is running, with a live postmaster
	// (this process too) and a PGDATA that says nothing about the role.
	base := state.State{Phase: state.PhaseRunning, Mode: "direct", PID: os.Getpid(), PostmasterPID: os.Getpid(), PGData: filepath.Join(t.TempDir(), "none")}
	primary := with(base, func(s *state.State) { s.Role = "primary" })
	replica := with(base, func(s *state.State) { s.Role = "replica" })
	patroni := func(role string) *state.State {
		return with(base, func(s *state.State) {
			s.Mode, s.Role, s.ModeChildPID = "patroni", role, os.Getpid()
			s.Plugins = []state.Plugin{plugin("patroni")}
		})
	}
	says := func(d map[string]string) *fakeProber {
		return &fakeProber{answers: map[string]PluginHealth{"patroni": {Healthy: true, Message: "live", Details: d}}}
	}
	tests := []struct {
		name    string
		st      *state.State
		prober  PluginProber
		leader  bool
		replica bool
		maxLag  int64
		message string // prefix of the leader check's message
		repMsg  string // part of the replica check's message, when set
	}{
		{name: "direct, recorded primary", st: primary, leader: true, message: "role primary (state file, recorded "},
		{name: "direct, recorded replica", st: replica, replica: true, message: "role replica, not primary (state file"},
		{name: "direct, PGDATA ready beats a stale record", st: with(*replica, func(s *state.State) { s.PGData = pgdataWith(t, "ready") }),
			leader: true, message: "role primary (postmaster.pid says ready, not in recovery, mode direct)"},
		{name: "direct, standby.signal", st: with(*primary, func(s *state.State) { s.PGData = pgdataWith(t, "ready", "standby.signal") }),
			replica: true, message: "role replica, not primary (standby.signal in PGDATA)"},
		{name: "direct, hot standby status line", st: with(*primary, func(s *state.State) { s.PGData = pgdataWith(t, "standby") }),
			replica: true, message: "role replica, not primary (postmaster.pid says standby)"},
		{name: "direct, still starting: the record decides", st: with(*primary, func(s *state.State) { s.PGData = pgdataWith(t, "starting") }),
			leader: true, message: "role primary (state file"},
		{name: "no role recorded", st: &base, message: "role unknown: the state file records none"},
		{name: "role none", st: with(base, func(s *state.State) { s.Role = "none" }), message: "role none, not primary"},
		{name: "phase starting", st: with(*primary, func(s *state.State) { s.Phase = state.PhaseStarting }), message: "starting (server not ready yet)"},
		{name: "sleep mode", st: with(*primary, func(s *state.State) { s.Phase, s.Mode = state.PhaseSleeping, "sleep" }), message: "sleep mode"},
		{name: "entrypoint gone", st: with(*primary, func(s *state.State) { s.PID = deadPID(t) }), message: "stale state file"},
		{name: "postmaster gone", st: with(*primary, func(s *state.State) { s.PostmasterPID = deadPID(t) }), message: "postmaster: pid "},
		{name: "no state file", message: "no state file "},
		{name: "patroni: live leader beats a recorded replica", st: patroni("replica"), prober: says(map[string]string{"role": "master", "state": "running", "pgdock_role": "primary"}),
			leader: true, message: "role primary (patroni REST API, mode patroni)"},
		{name: "patroni: live replica beats a recorded primary", st: patroni("primary"), prober: says(map[string]string{"role": "replica", "state": "running", "lag_bytes": "0"}),
			replica: true, message: "role replica, not primary (patroni REST API)"},
		{name: "patroni: replica within --max-lag", st: patroni("replica"), prober: says(map[string]string{"role": "replica", "state": "running", "lag_bytes": "1024"}),
			replica: true, maxLag: 1 << 20, message: "role replica, not primary (patroni REST API)", repMsg: "role replica, 1024 bytes behind (patroni REST API, mode patroni)"},
		{name: "patroni: replica beyond --max-lag", st: patroni("replica"), prober: says(map[string]string{"role": "replica", "state": "running", "lag_bytes": "33554432"}),
			maxLag: 1 << 20, message: "role replica, not primary (patroni REST API)", repMsg: "replica 33554432 bytes behind the leader, more than --max-lag 1048576"},
		{name: "patroni: replica whose lag Patroni cannot tell, with --max-lag", st: patroni("replica"), prober: says(map[string]string{"role": "replica", "state": "running"}),
			maxLag: 1 << 20, message: "role replica, not primary (patroni REST API)", repMsg: "replica, lag unknown (patroni REST API), --max-lag 1048576 bytes asked for"},
		{name: "direct replica with --max-lag: no lag known", st: replica, maxLag: 1, message: "role replica, not primary (state file", repMsg: "lag unknown"},
		{name: "patroni: replica not running yet", st: patroni("replica"), prober: says(map[string]string{"role": "replica", "state": "starting"}),
			message: "role none, not primary"},
		{name: "patroni: REST unreachable, no fallback to the record", st: patroni("primary"),
			prober:  &fakeProber{answers: map[string]PluginHealth{"patroni": {Message: "connection refused", Details: map[string]string{"liveness": "unreachable"}}}},
			message: "patroni reports no role: connection refused"},
		{name: "patroni: probe error", st: patroni("primary"), prober: &fakeProber{errs: map[string]error{"patroni": errors.New("reattach refused")}},
			message: "patroni plugin probe failed: reattach refused"},
		{name: "patroni: not probed, the record decides", st: patroni("primary"), leader: true, message: "role primary (state file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, tc.prober)
			r.Config.MaxLag = tc.maxLag
			leader := r.Run(context.Background(), Leader)
			assert.Equal(t, tc.leader, leader.Healthy, leader.Message)
			assert.Equal(t, exitOf(tc.leader), leader.ExitCode())
			assert.True(t, strings.HasPrefix(leader.Message, tc.message), "message %q, want prefix %q", leader.Message, tc.message)
			assert.NotContains(t, leader.Text(), "\n")
			rep := r.Run(context.Background(), Replica)
			assert.Equal(t, tc.replica, rep.Healthy, rep.Message)
			assert.Contains(t, rep.Message, tc.repMsg)
			assert.Equal(t, exitOf(tc.replica), rep.ExitCode())
			var js map[string]any
			require.NoError(t, json.Unmarshal([]byte(rep.JSON()), &js))
			assert.Equal(t, "replica", js["check"])
			assert.Equal(t, tc.replica, js["healthy"])
		})
	}
}

func exitOf(healthy bool) int {
	if healthy {
		return 0
	}
	return 1
}

// TestRoleRealPrimary runs the role checks against a real PostgreSQL
// primary in direct mode, with no role in the state file: PGDATA decides.
func TestRoleRealPrimary(t *testing.T) {
	srv := pg.Need(t)
	st := runningState(srv)
	r := runner(t, &st, nil)
	leader := r.Run(context.Background(), Leader)
	assert.True(t, leader.Healthy, leader.Message)
	assert.Equal(t, 0, leader.ExitCode())
	assert.Contains(t, leader.Message, "role primary (postmaster.pid says ready")
	replica := r.Run(context.Background(), Replica)
	assert.False(t, replica.Healthy, replica.Message)
	assert.Equal(t, 1, replica.ExitCode())
	assert.Contains(t, replica.Text(), "FAIL replica: role primary, not replica")
}

// TestRoleRealStandby runs the role checks against a real standby in
// direct mode whose state file still records it as the primary: PGDATA
// (standby.signal) decides, and a stopped standby is neither.
func TestRoleRealStandby(t *testing.T) {
	pg.Need(t)
	standby, err := pg.StartStandby()
	require.NoError(t, err)
	t.Cleanup(func() { _ = standby.Stop() })
	st := runningState(standby)
	st.Role = "primary"
	r := runner(t, &st, nil)
	replica := r.Run(context.Background(), Replica)
	assert.True(t, replica.Healthy, replica.Message)
	assert.Contains(t, replica.Message, "role replica (standby.signal in PGDATA")
	leader := r.Run(context.Background(), Leader)
	assert.False(t, leader.Healthy, leader.Message)

	require.NoError(t, standby.Stop())
	replica = r.Run(context.Background(), Replica)
	assert.False(t, replica.Healthy)
	assert.Equal(t, fmt.Sprintf("postmaster: pid %d is not running", standby.PID()), replica.Message)
}
