package budget

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMet(t *testing.T) {
	for _, tc := range []struct {
		b    Budget
		d    time.Duration
		want bool
	}{
		{GoalHealthy, 5 * time.Second, true}, // ≤ 5 s
		{GoalHealthy, 5*time.Second + time.Millisecond, false},
		{PlanStartup, 30 * time.Second, false}, // < 30 s
		{PlanStartup, 30*time.Second - time.Millisecond, true},
		{GoalStop, 0, true},
	} {
		assert.Equal(t, tc.want, tc.b.Met(tc.d), "%s with %s", tc.b, tc.d)
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "≤ 5s (pgdock)", GoalHealthy.String())
	assert.Equal(t, "< 30s (plan)", PlanShutdown.String())
	assert.Equal(t, MetricRestart, PlanStartup.For(MetricRestart).Metric)
	assert.Equal(t, MetricHealthy, PlanStartup.Metric, "For returns a copy")
}

func TestAccountJudgesTheWorstMeasurement(t *testing.T) {
	a := NewAccount(GoalStop, PlanShutdown, GoalHealthy, PlanStartup.For(MetricRestart))
	a.Add(MetricStop, 400*time.Millisecond)
	a.Add(MetricStop, 2500*time.Millisecond) // one slow stop out of three
	a.Add(MetricStop, 300*time.Millisecond)
	a.Add(MetricHealthy, 4*time.Second)
	a.Add("unbudgeted", time.Hour)

	checks := a.Checks()
	require.Len(t, checks, 4)
	got := map[string]Check{}
	for _, c := range checks {
		got[c.Budget.String()+" "+c.Budget.Metric] = c
	}
	stopGoal := got[GoalStop.String()+" stop"]
	assert.Equal(t, Missed, stopGoal.Verdict)
	assert.Equal(t, 2500*time.Millisecond, stopGoal.Worst)
	assert.Equal(t, 3, stopGoal.Count)
	assert.Equal(t, Met, got[PlanShutdown.String()+" stop"].Verdict)
	assert.Equal(t, Met, got[GoalHealthy.String()+" healthy"].Verdict)
	assert.Equal(t, NotMeasured, got[PlanStartup.String()+" restart"].Verdict, "never measured is not met")

	assert.Equal(t, []string{"stop took 2.5s, budget ≤ 2s (pgdock)"}, a.Failures())
	assert.Len(t, a.Measurements(), 5)
}

func TestAccountEmpty(t *testing.T) {
	a := NewAccount(GoalStop)
	assert.Empty(t, a.Failures(), "nothing measured: no budget failure (the scenario's own checks failed)")
	assert.Equal(t, NotMeasured, a.Checks()[0].Verdict)
	assert.Equal(t, "not measured", NotMeasured.String())
}

func TestAdvisoryGoalsAreReportedNotMissed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advise  bool
		want    Verdict
		failing int
	}{
		{name: "enforced", advise: false, want: Missed, failing: 1},
		{name: "reported", advise: true, want: Over, failing: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAccount(PlanStartup, GoalHealthy)
			if tc.advise {
				a.Advise(Goal)
			}
			a.Add(MetricHealthy, 6*time.Second)
			var goal Check
			for _, c := range a.Checks() {
				if c.Budget.Source == Goal {
					goal = c
				}
				if c.Budget.Source == Plan && c.Verdict != Met {
					t.Fatalf("plan budget: %v, want met", c.Verdict)
				}
			}
			if goal.Verdict != tc.want {
				t.Fatalf("goal verdict %v, want %v", goal.Verdict, tc.want)
			}
			if n := len(a.Failures()); n != tc.failing {
				t.Fatalf("%d failures, want %d", n, tc.failing)
			}
			a.Add(MetricHealthy, 31*time.Second) // the plan's budget is never advisory
			if len(a.Failures()) == 0 {
				t.Fatal("a missed plan budget must fail")
			}
		})
	}
}
