package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pgdock/pgdock/testrig/internal/result"
	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

// Options of a run.
type Options struct {
	Env       scenario.Env
	Scenarios []scenario.Scenario
	Keep      bool // leave a failed scenario's stacks up
	// Majors (--pg): the PostgreSQL majors whose pgdock/postgres image the
	// direct-mode scenarios (Scenario.PerMajor) run on, once each; the
	// others run once on the default image. Empty: each scenario once.
	Majors []int
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.Env.Driver == nil {
		return errors.New("runner: no Engine driver")
	}
	if o.Env.Log == nil {
		return errors.New("runner: no logger")
	}
	if len(o.Scenarios) == 0 {
		return errors.New("runner: no scenario selected")
	}
	return nil
}

// Select returns the named scenarios from all, in the order given; no names
// selects all of them.
func Select(all []scenario.Scenario, names []string) ([]scenario.Scenario, error) {
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]scenario.Scenario{}
	var known []string
	for _, s := range all {
		byName[s.Name] = s
		known = append(known, s.Name)
	}
	var out []scenario.Scenario
	seen := map[string]bool{}
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, strings.Join(known, ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// Run runs the scenarios. A cancelled ctx (Ctrl-C) stops the scenario in
// progress, marks the rest as failed with the reason, and still tears down.
func Run(ctx context.Context, o Options) (result.Run, error) {
	if err := o.Validate(); err != nil {
		return result.Run{}, err
	}
	run := result.Run{ID: o.Env.RunID, Started: time.Now()}
	images, err := inspectMajors(ctx, o.Env.Driver, o.Majors)
	if err != nil {
		return run, err
	}
	var errs []error
	for _, j := range plan(o.Scenarios, o.Majors, images) {
		s := j.s
		if j.missing != "" {
			run.Scenarios = append(run.Scenarios, result.Scenario{
				Name: s.Name, Description: s.Description, Started: time.Now(),
				Checks: []result.Check{{Name: "image", Status: result.Fail, Message: j.missing}},
			})
			if o.Env.Progress != nil {
				o.Env.Progress.Line("--- %s: FAIL — %s", s.Name, j.missing)
			}
			continue
		}
		if ctx.Err() != nil {
			run.Scenarios = append(run.Scenarios, result.Scenario{
				Name: s.Name, Description: s.Description, Started: time.Now(),
				Checks: []result.Check{{Name: "run", Status: result.Fail, Message: "not run: interrupted (" + context.Cause(ctx).Error() + ")"}},
			})
			continue
		}
		if o.Env.Progress != nil {
			o.Env.Progress.Line("=== %s", s.Name)
		}
		t := scenario.NewT(envFor(o.Env, j), s)
		runOne(ctx, s, t)
		if ctx.Err() != nil {
			t.Fail("run", fmt.Errorf("interrupted: %w", context.Cause(ctx)))
		}
		if o.Env.Progress != nil {
			o.Env.Progress.Step("%s: tearing down", s.Name)
		}
		res, err := t.Finish(o.Keep)
		res.Description = s.Description
		if err != nil {
			res.Checks = append(res.Checks, result.Check{Name: "teardown", Status: result.Fail, Message: err.Error()})
			errs = append(errs, err)
		}
		if o.Env.Progress != nil {
			o.Env.Progress.Line("--- %s: %s in %s", s.Name, res.Status(), res.Took.Round(time.Millisecond))
		}
		run.Scenarios = append(run.Scenarios, res)
	}
	run.Took = time.Since(run.Started)
	if !o.Keep || !run.Failed() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n, err := o.Env.Driver.Leftovers(cctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("runner: count leftovers: %w", err))
		} else if n > 0 {
			errs = append(errs, fmt.Errorf("runner: %d resources of run %s are still on the Engine after teardown", n, run.ID))
		}
	}
	return run, errors.Join(errs...)
}

// runOne runs a scenario within its timeout, turning a panic into a failed
// check.
func runOne(ctx context.Context, s scenario.Scenario, t *scenario.T) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = scenario.DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("scenario %s ran past its %s timeout", s.Name, timeout))
	defer cancel()
	defer func() {
		if ctx.Err() != nil && context.Cause(ctx) != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fail("timeout", context.Cause(ctx))
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			t.Fail("panic", fmt.Errorf("%v\n%s", r, debug.Stack()))
		}
	}()
	s.Run(ctx, t)
}
