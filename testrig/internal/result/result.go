package result

import (
	"time"

	"github.com/pgdock/pgdock/testrig/internal/budget"
)

// Status of a check or a scenario.
type Status int

// Statuses. A skip is never a pass: it is counted and shown apart.
const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "FAIL"
	default:
		return "skip"
	}
}

// Check is one named assertion of a scenario.
type Check struct {
	Name    string
	Status  Status
	Message string        // failure text or skip reason
	Took    time.Duration // time spent in the check
}

// Span is a phase on the timeline, as offsets from the scenario's start.
type Span struct {
	Lane  string // row label, e.g. "postgres" or "user 999:999"
	Name  string // phase, e.g. "create", "start → ready"
	Start time.Duration
	End   time.Duration
}

// Mark is an instant on the timeline (first ready, healthy, exited).
type Mark struct {
	Lane string
	Name string
	At   time.Duration
}

// Timeline of a scenario.
type Timeline struct {
	Spans []Span
	Marks []Mark
}

// Scenario is one scenario's outcome.
type Scenario struct {
	Name         string
	Description  string
	Started      time.Time
	Took         time.Duration
	Checks       []Check
	Budgets      []budget.Check
	Measurements []budget.Measurement
	Timeline     Timeline
}

// Status folds the checks and budgets: any failure or missed budget fails
// the scenario; a scenario whose every check was skipped is skipped; one with
// some skipped checks and the rest passing passes, and Skipped says how many
// were skipped.
func (s Scenario) Status() Status {
	passed := 0
	for _, c := range s.Checks {
		switch c.Status {
		case Fail:
			return Fail
		case Pass:
			passed++
		}
	}
	for _, b := range s.Budgets {
		if b.Verdict == budget.Missed {
			return Fail
		}
	}
	if passed == 0 {
		return Skip
	}
	return Pass
}

// Count returns how many checks have the status.
func (s Scenario) Count(st Status) int {
	n := 0
	for _, c := range s.Checks {
		if c.Status == st {
			n++
		}
	}
	return n
}

// Run is a whole rig run.
type Run struct {
	ID      string
	Started time.Time
	Took    time.Duration
	Engine  string // "Docker Engine 20.10.24 (API 1.41)"
	// Host describes the machine's load during the run (CPUs, load
	// averages at start and end): budgets on a loaded machine read differently.
	Host string
	// Images lists the images the stacks use ("pgdock/postgres:15 (8f5cb0473a33, 538 MB)").
	Images    []string
	Scenarios []Scenario
}

// Failed says whether any scenario failed.
func (r Run) Failed() bool {
	for _, s := range r.Scenarios {
		if s.Status() == Fail {
			return true
		}
	}
	return false
}
