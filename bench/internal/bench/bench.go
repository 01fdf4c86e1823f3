package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Run runs every measure and returns the report. Scenario failures become
// measures with status "error"; Run itself fails only when it cannot set up
// or was interrupted (ctx). Everything it started is gone when it returns.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if cfg.Runs < 1 || cfg.HealthRuns < 1 || cfg.PatroniRuns < 1 || cfg.Backup.Runs < 1 {
		return nil, errors.New("runs, health runs, patroni runs and backup runs must be at least 1")
	}
	for _, s := range cfg.Suites {
		if !slices.Contains(AllSuites, s) {
			return nil, fmt.Errorf("unknown suite %q: accepted are %s", s, strings.Join(AllSuites, ", "))
		}
	}
	if err := cfg.Backup.validate(); err != nil {
		return nil, err
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

	if cfg.runs(SuiteDirect) {
		ms, err := r.direct(ctx)
		if err != nil {
			return nil, err
		}
		rep.Measures = append(rep.Measures, ms...)
	}
	if cfg.runs(SuitePatroni) {
		rep.Measures = append(rep.Measures, r.patroni(ctx)...)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("interrupted: %w", err)
		}
	}
	if cfg.runs(SuiteBackup) {
		rep.Measures = append(rep.Measures, r.backups(ctx)...)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("interrupted: %w", err)
		}
	}
	rep.Measures = order(rep.Measures)
	rep.FinishedAt = time.Now()
	rep.DurationS = rep.FinishedAt.Sub(rep.StartedAt).Seconds()
	return rep, nil
}

// direct runs the direct-mode suite: first boots, then the measures on an
// initialised PGDATA, then the plugin starts.
func (r *rig) direct(ctx context.Context) ([]Measure, error) {
	var out []Measure
	out = append(out, r.firstBoots(ctx)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	warm, werr := r.warmSandbox(ctx)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if werr != nil {
		out = append(out, warmFailed(werr)...)
	} else {
		for _, scenario := range []func(context.Context, *sandbox) []Measure{r.restarts, r.loads, r.sleeps, r.healthchecks, r.healthWithPlugin} {
			out = append(out, scenario(ctx, warm)...)
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("interrupted: %w", err)
			}
		}
		if err := r.closeSandbox(warm); err != nil {
			return nil, err
		}
	}
	out = append(out, r.pluginStarts(ctx)...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	return out, nil
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
		"patroni_healthy_default", "patroni_healthy_tuned", "patroni_failover_sigterm", "patroni_failover_kill9", "patroni_rejoin", "patroni_lost_writes",
		"backup_full_time_defaults", "backup_full_time", "backup_full_size_defaults", "backup_full_size",
		"backup_restore_time_defaults", "backup_restore_time",
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
