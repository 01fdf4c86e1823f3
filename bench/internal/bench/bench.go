package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Run runs every measure and returns the report. Scenario failures become
// measures with status "error"; Run itself fails only when it cannot set up
// or was interrupted (ctx). Everything it started is gone when it returns.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if cfg.Runs < 1 || cfg.HealthRuns < 1 {
		return nil, errors.New("runs and health runs must be at least 1")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.Load <= 0 {
		cfg.Load = DefaultLoad
	}
	r, err := newRig(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := r.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	rep = &Report{StartedAt: time.Now(), Environment: r.environment(ctx), Settings: cfg.settings()}
	r.progress("PostgreSQL %s; work directory %s (%s); %d CPUs",
		rep.Environment.PostgreSQL, r.top, rep.Environment.Filesystem, rep.Environment.CPUs)

	rep.Measures = append(rep.Measures, r.firstBoots(ctx)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	warm, werr := r.warmSandbox(ctx)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if werr != nil {
		rep.Measures = append(rep.Measures, warmFailed(werr)...)
	} else {
		for _, scenario := range []func(context.Context, *sandbox) []Measure{r.restarts, r.loads, r.sleeps, r.healthchecks, r.healthWithPlugin} {
			rep.Measures = append(rep.Measures, scenario(ctx, warm)...)
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted: %w", err)
			}
		}
		if err := r.closeSandbox(warm); err != nil {
			return nil, err
		}
	}
	rep.Measures = append(rep.Measures, r.pluginStarts(ctx)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	rep.Measures = order(rep.Measures)
	rep.FinishedAt = time.Now()
	rep.DurationS = rep.FinishedAt.Sub(rep.StartedAt).Seconds()
	return rep, nil
}

// warmFailed stands in for the measures that need the initialised PGDATA.
func warmFailed(err error) []Measure {
	err = fmt.Errorf("preparing an initialised PGDATA: %w", err)
	var out []Measure
	for _, id := range []string{"restart_vs_pg_ctl", "stop_idle_vs_pg_ctl", "stop_load_vs_pg_ctl", "entrypoint_rss_idle", "sleep_stop", "healthcheck_latency"} {
		out = append(out, spec{id: id, name: id}.failed(err))
	}
	return out
}

// order puts the measures in the order of DESIGN.md's budgets; unknown ids
// go last, in their original order.
func order(ms []Measure) []Measure {
	ids := []string{
		"first_boot_vs_pg_ctl", "first_boot_vs_direct", "first_boot_rest_vs_pg_ctl", "first_boot_rest_vs_direct",
		"restart_vs_pg_ctl", "restart_vs_direct",
		"stop_idle_vs_pg_ctl", "stop_idle_vs_direct",
		"stop_load_vs_pg_ctl", "stop_load_vs_direct",
		"entrypoint_rss_idle", "sleep_stop",
		"healthcheck_latency", "healthcheck_rss", "healthcheck_latency_plugin",
		"plugin_handshake", "plugin_rss_idle",
		"first_boot_with_example_plugin", "first_boot_rest_with_example_plugin", "plugin_handshake_entrypoint", "plugin_rss_entrypoint",
	}
	rank := func(m Measure) int {
		if i := slices.Index(ids, m.ID); i >= 0 {
			return i
		}
		return len(ids)
	}
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b Measure) int { return cmp.Compare(rank(a), rank(b)) })
	return out
}
