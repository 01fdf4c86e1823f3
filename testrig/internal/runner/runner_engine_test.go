package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/enginetest"
	"github.com/pgdock/pgdock/testrig/internal/result"
	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

// TestRunTearsDownAfterPanicAndInterrupt runs scenarios on the tiny stack:
// one passes, one panics with its stack up, one is interrupted (Ctrl-C)
// while its stack is up, one never starts. Nothing of the run may be left on
// the Engine.
func TestRunTearsDownAfterPanicAndInterrupt(t *testing.T) {
	runID := enginetest.RunID("r")
	d := enginetest.Driver(t, runID)
	img := enginetest.TinyImage(t, d)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("x"), 0o644))
	spec := scenario.StackSpec{
		Files: []string{"stack.yaml"},
		Env:   []string{"TINY_IMAGE=" + img, "BIND_DIR=" + t.TempDir(), "PW_FILE=" + pw},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	up := func(ctx context.Context, tt *scenario.T) bool {
		_, err := tt.Up(ctx, spec, engineHooks())
		if err != nil {
			tt.Fail("up", err)
			return false
		}
		return true
	}
	scenarios := []scenario.Scenario{
		{Name: "ok", Budgets: []budget.Budget{budget.GoalStop}, Run: func(ctx context.Context, tt *scenario.T) {
			if up(ctx, tt) {
				tt.Check("up", func() error { return nil })
				tt.Measure(budget.MetricStop, time.Second)
			}
		}},
		{Name: "panics", Run: func(ctx context.Context, tt *scenario.T) {
			if up(ctx, tt) {
				panic("boom")
			}
		}},
		{Name: "interrupted", Run: func(ctx context.Context, tt *scenario.T) {
			if up(ctx, tt) {
				cancel() // Ctrl-C while the stack is up
				<-ctx.Done()
			}
		}},
		{Name: "never", Run: func(ctx context.Context, tt *scenario.T) { tt.Check("ran", func() error { return nil }) }},
	}
	run, err := Run(ctx, Options{
		Env:       scenario.Env{Driver: d, Root: "../engine/testdata", RunID: runID, Log: zaptest.NewLogger(t)},
		Scenarios: scenarios,
	})
	require.NoError(t, err, "teardown and the leftover check succeed")
	require.Len(t, run.Scenarios, 4)
	st := map[string]result.Scenario{}
	for _, s := range run.Scenarios {
		st[s.Name] = s
	}
	assert.Equal(t, result.Pass, st["ok"].Status())
	assert.Equal(t, result.Fail, st["panics"].Status())
	assert.Contains(t, lastCheck(st["panics"]).Message, "boom")
	assert.Equal(t, result.Fail, st["interrupted"].Status())
	assert.Contains(t, lastCheck(st["interrupted"]).Message, "interrupted")
	assert.Equal(t, result.Fail, st["never"].Status(), "a scenario not run after Ctrl-C is not a pass")
	assert.Contains(t, lastCheck(st["never"]).Message, "not run")

	n, err := d.Leftovers(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func lastCheck(s result.Scenario) result.Check {
	if len(s.Checks) == 0 {
		return result.Check{}
	}
	return s.Checks[len(s.Checks)-1]
}

// TestKeepLeavesAFailedStackUp: with --keep a failed scenario's stack stays
// for inspection (and a passing one is still removed).
func TestKeepLeavesAFailedStackUp(t *testing.T) {
	runID := enginetest.RunID("k")
	d := enginetest.Driver(t, runID)
	img := enginetest.TinyImage(t, d)
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("x"), 0o644))
	spec := scenario.StackSpec{
		Files: []string{"stack.yaml"},
		Env:   []string{"TINY_IMAGE=" + img, "BIND_DIR=" + t.TempDir(), "PW_FILE=" + pw},
	}
	var kept *engine.Stack
	t.Cleanup(func() {
		if kept != nil {
			_ = kept.Down(context.Background())
		}
	})
	scenarios := []scenario.Scenario{
		{Name: "passes", Run: func(ctx context.Context, tt *scenario.T) {
			_, err := tt.Up(ctx, spec, engine.Hooks{})
			tt.Check("up", func() error { return err })
		}},
		{Name: "fails", Run: func(ctx context.Context, tt *scenario.T) {
			st, err := tt.Up(ctx, spec, engine.Hooks{})
			kept = st
			tt.Check("up", func() error { return err })
			tt.Fail("something", assert.AnError)
		}},
	}
	run, err := Run(context.Background(), Options{
		Env:       scenario.Env{Driver: d, Root: "../engine/testdata", RunID: runID, Log: zaptest.NewLogger(t)},
		Scenarios: scenarios,
		Keep:      true,
	})
	require.NoError(t, err)
	assert.True(t, run.Failed())
	require.NotNil(t, kept)
	ci, err := kept.Inspect(context.Background(), "a")
	require.NoError(t, err, "the failed scenario's container is still there")
	assert.True(t, ci.State.Running)
	assert.Contains(t, ci.Name, "pgdockrig-"+runID+"-fails1")
	n, err := d.Leftovers(context.Background())
	require.NoError(t, err)
	// the failed stack: two containers, one network, one volume; nothing of "passes"
	assert.Equal(t, 4, n)
}
