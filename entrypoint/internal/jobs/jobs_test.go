package jobs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/plugins/sdk"
)

func newScheduler(t *testing.T, role sdk.Role, specs ...Spec) (*Scheduler, *observer.ObservedLogs) {
	t.Helper()
	r, stop := reaper.Background(zap.NewNop())
	t.Cleanup(stop)
	core, logs := observer.New(zap.DebugLevel)
	s, err := New(Options{Specs: specs, Reaper: r, Log: zap.New(core), Role: role})
	require.NoError(t, err)
	t.Cleanup(func() { s.Stop(5 * time.Second) })
	return s, logs
}

func shJob(plugin, name, schedule, script string) Spec {
	return Spec{Plugin: plugin, Job: sdk.Job{Name: name, Argv: []string{"sh", "-c", script}, Env: map[string]string{"PATH": os.Getenv("PATH")}, Schedule: schedule}}
}

func lines(t *testing.T, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}

func TestValidateNamesPluginAndJob(t *testing.T) {
	tests := []struct {
		schedule string
		ok       bool
	}{
		{"*/5 * * * *", true},
		{"@daily", true},
		{"@every 1s", true},
		{"0 3 * * 0", true},
		{"* * * *", false},
		{"61 * * * *", false},
		{"@sometimes", false},
		{"", true}, // on demand only
		{" ", false},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			err := Validate([]Spec{shJob("pgbackrest", "full", tt.schedule, "true")})
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "plugin pgbackrest: job full: invalid schedule")
		})
	}
	_, err := New(Options{Specs: []Spec{shJob("p", "a", "bad", "true"), shJob("q", "b", "@every x", "true")}, Reaper: reaper.New(zap.NewNop())})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plugin p: job a")
	assert.Contains(t, err.Error(), "plugin q: job b")
}

// TestOnDemandOnly: a job without a schedule never runs by itself and runs
// when asked.
func TestOnDemandOnly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "runs")
	s, _ := newScheduler(t, sdk.RolePrimary, shJob("demo", "backup", "", "echo run >> "+out))
	s.Start()
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, 0, lines(t, out), "an on-demand job ran by itself")
	res, err := s.RunNow(context.Background(), "demo", "backup")
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	assert.Equal(t, 1, lines(t, out))
}

// TestEverySecond: a real process runs every second, its output is logged
// with the job's name, and its result is kept and pushed.
func TestEverySecond(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ticks")
	var mu sync.Mutex
	var pushed []map[string]sdk.JobResult
	r, stop := reaper.Background(zap.NewNop())
	t.Cleanup(stop)
	core, logs := observer.New(zap.DebugLevel)
	s, err := New(Options{Specs: []Spec{shJob("demo", "tick", "@every 1s", "echo tick >> "+out+"; echo hello from the job")},
		Reaper: r, Log: zap.New(core), Role: sdk.RolePrimary,
		OnResult: func(p string, res map[string]sdk.JobResult) {
			mu.Lock()
			pushed = append(pushed, res)
			mu.Unlock()
		}})
	require.NoError(t, err)
	t.Cleanup(func() { s.Stop(5 * time.Second) })
	s.Start()
	require.Eventually(t, func() bool { return lines(t, out) >= 2 }, 10*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return !s.Results("demo")["tick"].Finished.IsZero() }, 5*time.Second, 20*time.Millisecond)
	res := s.Results("demo")["tick"]
	assert.Equal(t, 0, res.ExitCode)
	assert.Empty(t, res.Error)
	assert.Equal(t, "tick", res.Name)
	out2 := logs.FilterMessage("job output").All()
	require.NotEmpty(t, out2)
	assert.Equal(t, "hello from the job", out2[0].ContextMap()["line"])
	assert.Equal(t, "tick", out2[0].ContextMap()["job"])
	assert.NotEmpty(t, logs.FilterMessage("job finished").All())
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(pushed) >= 2 }, 5*time.Second, 20*time.Millisecond)
}

// TestOneAtATime: a tick while the job runs is skipped and logged.
func TestOneAtATime(t *testing.T) {
	out := filepath.Join(t.TempDir(), "starts")
	s, logs := newScheduler(t, sdk.RolePrimary, shJob("demo", "slow", "@every 1s", "echo start >> "+out+"; sleep 3"))
	s.Start()
	require.Eventually(t, func() bool {
		return logs.FilterMessage("job tick skipped: the previous run is still running").Len() > 0
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1, lines(t, out))
}

func TestPrimaryOnly(t *testing.T) {
	out := filepath.Join(t.TempDir(), "runs")
	j := shJob("demo", "backup", "@every 1s", "echo run >> "+out)
	j.PrimaryOnly = true
	s, _ := newScheduler(t, sdk.RoleReplica, j)
	_, err := s.RunNow(context.Background(), "demo", "backup")
	require.ErrorIs(t, err, errNotPrimary)
	assert.ErrorContains(t, err, "(this node: replica)")
	s.SetRole(sdk.RoleUnspecified)
	_, err = s.RunNow(context.Background(), "demo", "backup")
	require.ErrorIs(t, err, errNotPrimary)
	assert.ErrorContains(t, err, "not ready yet")
	s.SetRole(sdk.RolePrimary)
	res, err := s.RunNow(context.Background(), "demo", "backup")
	require.NoError(t, err)
	assert.Equal(t, 0, res.ExitCode)
	assert.Equal(t, 1, lines(t, out))
	_, err = s.RunNow(context.Background(), "demo", "nothere")
	require.ErrorContains(t, err, `plugin demo has no job "nothere"`)
}

func TestTimeoutAndFailure(t *testing.T) {
	j := shJob("demo", "hang", "@daily", "sleep 30")
	j.TimeoutSeconds = 1
	s, _ := newScheduler(t, sdk.RolePrimary, j, shJob("demo", "fail", "@daily", "exit 3"))
	began := time.Now()
	res, err := s.RunNow(context.Background(), "demo", "hang")
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 1*time.Second+TimeoutGrace)
	assert.Contains(t, res.Error, "timed out after 1s")
	res, err = s.RunNow(context.Background(), "demo", "fail")
	require.NoError(t, err)
	assert.Equal(t, 3, res.ExitCode)
	assert.Equal(t, "exit status 3", res.Error)
}

// TestStopKillsAJobIgnoringSIGTERMInsideTheBudget.
func TestStopKillsAJobIgnoringSIGTERMInsideTheBudget(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	s, _ := newScheduler(t, sdk.RolePrimary, shJob("demo", "stubborn", "@daily", "trap '' TERM; echo $$ > "+pidFile+".tmp; mv "+pidFile+".tmp "+pidFile+"; while :; do sleep 0.1; done"))
	done := make(chan sdk.JobResult, 1)
	go func() { res, _ := s.RunNow(context.Background(), "demo", "stubborn"); done <- res }()
	require.Eventually(t, func() bool { _, err := os.Stat(pidFile); return err == nil }, 10*time.Second, 20*time.Millisecond)
	budget := 2 * time.Second
	began := time.Now()
	s.Stop(budget)
	assert.Less(t, time.Since(began), budget)
	res := <-done
	assert.Contains(t, res.Error, "stopped at shutdown")
	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid := strings.TrimSpace(string(data))
	require.NotEmpty(t, pid)
	var n int
	for _, c := range pid {
		n = n*10 + int(c-'0')
	}
	// (a killed orphan may stay a zombie for a moment)
	assert.Eventually(t, func() bool { return syscall.Kill(-n, 0) != nil }, 5*time.Second, 20*time.Millisecond, "the job's process group survived")
	_, err = s.RunNow(context.Background(), "demo", "stubborn")
	require.ErrorIs(t, err, errStopping)
}
