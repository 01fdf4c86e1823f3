package result

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/testrig/internal/budget"
)

func TestScenarioStatus(t *testing.T) {
	pass := Check{Name: "a", Status: Pass}
	fail := Check{Name: "b", Status: Fail}
	skip := Check{Name: "c", Status: Skip, Message: "no grafana image"}
	missed := budget.Check{Verdict: budget.Missed}
	met := budget.Check{Verdict: budget.Met}
	for _, tc := range []struct {
		name    string
		checks  []Check
		budgets []budget.Check
		want    Status
	}{
		{"all pass", []Check{pass, pass}, []budget.Check{met}, Pass},
		{"one fail", []Check{pass, fail}, nil, Fail},
		{"skip and pass is pass", []Check{pass, skip}, nil, Pass},
		{"only skips is skip, never pass", []Check{skip}, nil, Skip},
		{"no checks is skip", nil, nil, Skip},
		{"missed budget fails", []Check{pass}, []budget.Check{met, missed}, Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Scenario{Checks: tc.checks, Budgets: tc.budgets}
			assert.Equal(t, tc.want, s.Status())
		})
	}
}

func TestRunFailed(t *testing.T) {
	ok := Scenario{Checks: []Check{{Status: Pass}}}
	skipped := Scenario{Checks: []Check{{Status: Skip}}}
	bad := Scenario{Checks: []Check{{Status: Fail}}}
	assert.False(t, Run{Scenarios: []Scenario{ok, skipped}}.Failed())
	assert.True(t, Run{Scenarios: []Scenario{ok, bad}}.Failed())
	assert.Equal(t, 1, Scenario{Checks: []Check{{Status: Skip}, {Status: Pass}}}.Count(Skip))
}
