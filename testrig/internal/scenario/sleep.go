package scenario

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// Sleep runs the direct stack with SLEEP_MODE=true: the container is up at
// once, starts nothing, and stops in under 2 s.
func Sleep() Scenario {
	return Scenario{
		Name:        "sleep",
		Description: "compose/direct with SLEEP_MODE=true: running at once, no PostgreSQL process and no data directory created, docker stop exits 0 in < 2 s.",
		Budgets: []budget.Budget{
			budget.PlanStartup.For(budget.MetricRunning),
			budget.PlanShutdown,
			{Metric: budget.MetricStop, Limit: 2 * time.Second, Strict: true, Source: budget.Goal},
		},
		Run:      runSleep,
		PerMajor: true,
	}
}

func runSleep(ctx context.Context, t *T) {
	env, err := secretEnv(t, randomPassword(), 0, 0)
	if err != nil {
		t.Fail("password file", err)
		return
	}
	service := svcPostgres
	spec := StackSpec{
		Files: []string{DirectCompose},
		Env:   env,
		Adjust: func(p *types.Project) error {
			return composefile.SetEnv(p, service, "SLEEP_MODE=true")
		},
	}
	lane := "sleep mode"
	var st *engine.Stack
	up := time.Now()
	var created, started time.Time
	if !t.Check("up", func() error {
		var err error
		st, err = t.Up(ctx, spec, engine.Hooks{
			Created: func(s string, at time.Time) {
				if s == service {
					created = at
				}
			},
			Started: func(s string, at time.Time) {
				if s == service {
					started = at
				}
			},
		})
		return err
	}) {
		return
	}
	if !t.Check("container running", func() error {
		return withLogs(ctx, st, service, st.WaitRunning(ctx, service, 30*time.Second))
	}) {
		return
	}
	running := time.Now()
	t.Span(lane, "create", up, created)
	t.Span(lane, "start", created, started)
	t.Mark(lane, "running", running)
	t.Measure(budget.MetricRunning, running.Sub(up))
	t.Check("nothing started: no postgres process, PGDATA untouched", func() error {
		procs, err := st.Processes(ctx, service)
		if err != nil {
			return err
		}
		for _, p := range procs {
			arg0 := strings.Fields(p + " ")[0]
			if path.Base(arg0) == "postgres" || strings.HasPrefix(p, "postgres:") {
				return fmt.Errorf("process %q runs in sleep mode", p)
			}
		}
		out, code, err := st.Exec(ctx, service, "0", "test", "-e", path.Join(t.Env().PGDataDir(), "PG_VERSION"))
		if err != nil {
			return err
		}
		if code == 0 {
			return fmt.Errorf("PGDATA was initialised in sleep mode (%s)", strings.TrimSpace(out))
		}
		return nil
	})
	timedStop(ctx, t, st, service, lane, budget.MetricStop)
}
