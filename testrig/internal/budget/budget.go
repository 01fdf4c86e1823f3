package budget

import (
	"fmt"
	"sort"
	"time"
)

// Source says where a budget comes from.
type Source string

// The two sources of budgets in issue 7.
const (
	// Plan: the replaced container's plan, startup < 30 s and graceful
	// shutdown < 30 s in every mode.
	Plan Source = "plan"
	// Goal: pgdock's own, far lower goals.
	Goal Source = "pgdock"
)

// Budget is a limit on one measured duration.
type Budget struct {
	Metric string        // what is measured, e.g. "healthy" (Metric* constants)
	Limit  time.Duration // a measurement must be <= Limit
	Strict bool          // true: must be < Limit (the plan's "< 30 s")
	Source Source
}

// Metrics the scenarios measure.
const (
	MetricHealthy  = "healthy"   // up (container create) -> healthy
	MetricInitBoot = "init-boot" // up -> healthy, a first boot running init scripts
	MetricRestart  = "restart"   // start of a stopped container -> healthy
	MetricStop     = "stop"      // docker stop call -> exited
	MetricRunning  = "running"   // up -> container running (sleep mode)
	MetricStackUp  = "stack-up"  // up -> every check of the stack passes
)

// Plan and Goal budgets as issue 7 states them.
var (
	PlanStartup  = Budget{Metric: MetricHealthy, Limit: 30 * time.Second, Strict: true, Source: Plan}
	PlanShutdown = Budget{Metric: MetricStop, Limit: 30 * time.Second, Strict: true, Source: Plan}
	GoalHealthy  = Budget{Metric: MetricHealthy, Limit: 5 * time.Second, Source: Goal}
	GoalStop     = Budget{Metric: MetricStop, Limit: 2 * time.Second, Source: Goal}
)

// For returns a copy of b for another metric.
func (b Budget) For(metric string) Budget { b.Metric = metric; return b }

// String renders "≤ 5s (pgdock)" or "< 30s (plan)".
func (b Budget) String() string {
	op := "≤"
	if b.Strict {
		op = "<"
	}
	return fmt.Sprintf("%s %s (%s)", op, b.Limit, b.Source)
}

// Met says whether d is inside the budget.
func (b Budget) Met(d time.Duration) bool {
	if b.Strict {
		return d < b.Limit
	}
	return d <= b.Limit
}

// Verdict of one budget against the measurements.
type Verdict int

// Verdicts.
const (
	Met Verdict = iota
	Missed
	NotMeasured
	// Over: a pgdock goal was exceeded in a run that reports goals instead
	// of enforcing them (testrig run --goals report, as make test runs it:
	// speed lives in benchmarks, not in timed tests). Not a failure.
	Over
)

func (v Verdict) String() string {
	switch v {
	case Met:
		return "met"
	case Missed:
		return "MISSED"
	case Over:
		return "over goal (reported)"
	default:
		return "not measured"
	}
}

// Measurement is one measured duration.
type Measurement struct {
	Metric string
	Took   time.Duration
}

// Check is one budget judged against the worst (largest) measurement of its
// metric: a metric measured several times (three users, restart after
// restart) must meet its budget every time.
type Check struct {
	Budget  Budget
	Worst   time.Duration
	Count   int
	Verdict Verdict
}

// Account collects measurements and judges budgets.
type Account struct {
	budgets  []Budget
	ms       []Measurement
	advisory map[Source]bool
}

// Advise makes budgets from these sources advisory: exceeding one is
// reported as Over, not Missed.
func (a *Account) Advise(sources ...Source) {
	if a.advisory == nil {
		a.advisory = map[Source]bool{}
	}
	for _, s := range sources {
		a.advisory[s] = true
	}
}

// NewAccount starts an account with the budgets that apply.
func NewAccount(bs ...Budget) *Account { return &Account{budgets: bs} }

// Add records a measurement.
func (a *Account) Add(metric string, d time.Duration) {
	a.ms = append(a.ms, Measurement{Metric: metric, Took: d})
}

// Measurements returns what was recorded, in order.
func (a *Account) Measurements() []Measurement { return append([]Measurement(nil), a.ms...) }

// Budgets returns the budgets that apply.
func (a *Account) Budgets() []Budget { return append([]Budget(nil), a.budgets...) }

// Checks judges every budget; order: by metric, then by limit.
func (a *Account) Checks() []Check {
	out := make([]Check, 0, len(a.budgets))
	for _, b := range a.budgets {
		c := Check{Budget: b, Verdict: NotMeasured}
		for _, m := range a.ms {
			if m.Metric != b.Metric {
				continue
			}
			c.Count++
			if m.Took > c.Worst {
				c.Worst = m.Took
			}
		}
		if c.Count > 0 {
			c.Verdict = Met
			if !b.Met(c.Worst) {
				c.Verdict = Missed
				if a.advisory[b.Source] {
					c.Verdict = Over
				}
			}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Budget.Metric != out[j].Budget.Metric {
			return out[i].Budget.Metric < out[j].Budget.Metric
		}
		return out[i].Budget.Limit < out[j].Budget.Limit
	})
	return out
}

// Failures lists the missed budgets as messages; empty when all were met or
// not measured (a scenario that stopped early has already failed).
func (a *Account) Failures() []string {
	var out []string
	for _, c := range a.Checks() {
		if c.Verdict == Missed {
			out = append(out, fmt.Sprintf("%s took %s, budget %s", c.Budget.Metric, Round(c.Worst), c.Budget))
		}
	}
	return out
}

// Round keeps durations readable in tables: milliseconds.
func Round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
