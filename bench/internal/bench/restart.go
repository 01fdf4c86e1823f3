package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// warmSandbox is an initialised PGDATA (first boot by the entrypoint) with
// pgbench tables, shared by the restart, load, healthcheck and sleep runs.
func (r *rig) warmSandbox(ctx context.Context) (*sandbox, error) {
	sb, err := r.newSandbox("warm")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			r.closeSandbox(sb)
		}
	}()
	e, err := r.startEntrypoint(sb, "warm.log", nil)
	if err != nil {
		return nil, err
	}
	defer e.abort()
	if _, err := e.waitFor(ctx, patReady, readyTimeout); err != nil {
		return nil, err
	}
	out, err := sb.logFile("pgbench-init.log")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	_, err = runProc(ctx, "pgbench -i", r.bareSpec(sb, r.pgbench, out,
		"-i", "-q", "-s", strconv.Itoa(loadScale), "-h", sb.sock, "-p", strconv.Itoa(sb.port), "-U", serverUser, serverUser), 5*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("%w; output:\n%s", err, tailFile(out.Name(), 20))
	}
	if _, err := e.stop(ctx); err != nil {
		return nil, err
	}
	ok = true
	return sb, nil
}

// restarts measures an initialised PGDATA to ready and, after an idle
// pause, SIGTERM to exit; the entrypoint's RSS is read in that pause.
func (r *rig) restarts(ctx context.Context, sb *sandbox) []Measure {
	n := r.cfg.settings().RestartRuns
	pgStart := newSeries(`pgdock-entrypoint: exec -> "PostgreSQL is ready" line`)
	ctlStart := newSeries("pg_ctl start -w")
	dirStart := newSeries("postgres start + ready (2 ms postmaster.pid poll)")
	pgStop := newSeries("pgdock-entrypoint: SIGTERM -> process exit")
	ctlStop := newSeries("pg_ctl stop -m fast -w")
	dirStop := newSeries("postgres: SIGINT -> exit")
	rss := newSeries("pgdock-entrypoint VmRSS after ready + settle")
	sides := []side{
		{name: "pgdock", s: pgStart, run: func() error {
			return r.restartPgdock(ctx, sb, pgStart, pgStop, rss)
		}},
		{name: "bare pg_ctl", s: ctlStart, run: func() error {
			return r.restartPgCtl(ctx, sb, ctlStart, ctlStop)
		}},
		{name: "bare direct", s: dirStart, run: func() error {
			return r.restartDirect(ctx, sb, dirStart, dirStop)
		}},
	}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("restart", round, n, name, sidesSeries(sides, name), err)
	}); err != nil {
		return nil
	}
	for _, pair := range [][2]*series{{pgStart, pgStop}, {ctlStart, ctlStop}, {dirStart, dirStop}} {
		if pair[0].err != nil {
			pair[1].fail(pair[0].err)
		}
	}
	if pgStart.err != nil {
		rss.fail(pgStart.err)
	}
	plus50 := &Goal{Text: "<= +50 ms", Basis: BasisDiffAbs, Limit: 50}
	exact := "informational: the reference detects readiness/exit like the entrypoint, so this is the entrypoint's own overhead"
	return []Measure{
		spec{id: "restart_vs_pg_ctl", name: "restart -> ready, vs pg_ctl start -w", unit: unitMs,
			goal: plus50, diffShown: DiffShownAbs, showP95: true}.measure(pgStart, ctlStart),
		spec{id: "restart_vs_direct", name: "restart -> ready, vs postgres direct", unit: unitMs,
			diffShown: DiffShownAbs, showP95: true, note: exact}.measure(pgStart, dirStart),
		spec{id: "stop_idle_vs_pg_ctl", name: "SIGTERM -> exit, idle, vs pg_ctl stop -m fast -w", unit: unitMs,
			diffShown: DiffShownAbs, showP95: true}.measure(pgStop, ctlStop),
		spec{id: "stop_idle_vs_direct", name: "SIGTERM -> exit, idle, vs SIGINT to postgres direct", unit: unitMs,
			diffShown: DiffShownAbs, showP95: true}.measure(pgStop, dirStop),
		spec{id: "entrypoint_rss_idle", name: "entrypoint RSS, idle (VmRSS)", unit: unitMiB,
			goal: memoryGoal(15), note: rssNote(rss)}.measure(rss, nil),
	}
}

func (r *rig) restartPgdock(ctx context.Context, sb *sandbox, start, stop, rss *series) error {
	e, err := r.startEntrypoint(sb, "entrypoint.log", nil)
	if err != nil {
		return err
	}
	defer e.abort()
	ready, err := e.waitFor(ctx, patReady, readyTimeout)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	mem, err := e.mem()
	if err != nil {
		return err
	}
	d, err := e.stop(ctx)
	if err != nil {
		return err
	}
	start.addDur(ready)
	e.addSteps(start, restartSteps())
	stop.addDur(d)
	rss.add(float64(mem["VmRSS"]) / 1024)
	for _, f := range []string{"RssAnon", "RssFile"} {
		rss.addPartValue(f+" (MiB)", float64(mem[f])/1024)
	}
	return nil
}

func (r *rig) restartPgCtl(ctx context.Context, sb *sandbox, start, stop *series) error {
	out, err := sb.logFile("commands.log")
	if err != nil {
		return err
	}
	defer out.Close()
	up, err := r.pgCtlStart(ctx, sb, out, false)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		_, _ = r.pgCtlStop(ctx, sb, out)
		return err
	}
	down, err := r.pgCtlStop(ctx, sb, out)
	if err != nil {
		return err
	}
	start.addDur(up)
	stop.addDur(down)
	return nil
}

func (r *rig) restartDirect(ctx context.Context, sb *sandbox, start, stop *series) error {
	out, err := sb.logFile("commands.log")
	if err != nil {
		return err
	}
	defer out.Close()
	srv, up, err := r.directStart(ctx, sb, out, false)
	if err != nil {
		return err
	}
	defer directAbort(srv)
	if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
		return err
	}
	down, err := directStop(srv)
	if err != nil {
		return err
	}
	start.addDur(up)
	stop.addDur(down)
	return nil
}

// rssNote splits the entrypoint's RSS into anonymous memory and mapped
// file pages (mostly its own binary's text, shared page cache).
func rssNote(rss *series) string {
	anon, file := rss.parts["RssAnon (MiB)"], rss.parts["RssFile (MiB)"]
	if len(anon) == 0 || len(file) == 0 {
		return ""
	}
	return fmt.Sprintf("median RssAnon %s MiB + RssFile %s MiB (file pages are the mapped binary, shared page cache)",
		FormatValue(Median(anon)), FormatValue(Median(file)))
}
