package scenario

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/result"
)

func TestTRecordsChecksBudgetsAndTimeline(t *testing.T) {
	s := Scenario{Name: "x", Budgets: []budget.Budget{budget.GoalStop}}
	tt := NewT(Env{}, s)
	assert.True(t, tt.Check("passes", func() error { return nil }))
	assert.False(t, tt.Check("fails", func() error { return errors.New("nope") }))
	tt.Skip("grafana", "no image")
	tt.Budget(budget.PlanShutdown)
	tt.Measure(budget.MetricStop, 2500*time.Millisecond)
	t0 := tt.Start()
	tt.Span("lane", "phase", t0.Add(time.Second), t0.Add(3*time.Second))
	tt.Span("lane", "never ended", t0, time.Time{}) // ignored: incomplete
	tt.Mark("lane", "healthy", t0.Add(2*time.Second))
	dir, err := tt.TempDir()
	require.NoError(t, err)

	res, err := tt.Finish(false)
	require.NoError(t, err)
	assert.Equal(t, result.Fail, res.Status())
	require.Len(t, res.Checks, 3)
	assert.Equal(t, "nope", res.Checks[1].Message)
	assert.Equal(t, result.Skip, res.Checks[2].Status)
	assert.Equal(t, "no image", res.Checks[2].Message)
	require.Len(t, res.Budgets, 2, "the scenario's budget and the one added during the run")
	for _, b := range res.Budgets {
		want := budget.Missed // 2.5 s: over ≤ 2 s
		if b.Budget == budget.PlanShutdown {
			want = budget.Met
		}
		assert.Equal(t, want, b.Verdict, b.Budget.String())
	}
	require.Len(t, res.Timeline.Spans, 1)
	assert.Equal(t, result.Span{Lane: "lane", Name: "phase", Start: time.Second, End: 3 * time.Second}, res.Timeline.Spans[0])
	assert.Equal(t, []result.Mark{{Lane: "lane", Name: "healthy", At: 2 * time.Second}}, res.Timeline.Marks)
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "temporary directories are removed")
}
