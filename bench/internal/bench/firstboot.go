package bench

import (
	"context"
	"fmt"
	"time"
)

// firstBoots measures an empty PGDATA to a ready server: the entrypoint
// (with and without the example plugin) against initdb + pg_ctl and
// initdb + direct postgres starts.
func (r *rig) firstBoots(ctx context.Context) []Measure {
	pgd := newSeries(`pgdock-entrypoint: exec -> "PostgreSQL is ready" line`)
	ctl := newSeries("initdb; pg_ctl start -w (socket only); pg_ctl stop -m fast -w; pg_ctl start -w")
	dir := newSeries("initdb; postgres start + ready (2 ms postmaster.pid poll); SIGINT + exit; start + ready")
	plg := newSeries("pgdock-entrypoint with EXAMPLE_ENABLE=true")
	hs := newSeries("example plugin handshake, from the entrypoint's log (took=)")
	prss := newSeries("example plugin VmRSS, started by the entrypoint")
	wired := true
	sides := []side{
		{name: "pgdock", s: pgd, run: func() error { return r.firstBootPgdock(ctx, pgd, nil) }},
		{name: "bare pg_ctl", s: ctl, run: func() error { return r.firstBootPgCtl(ctx, ctl) }},
		{name: "bare direct", s: dir, run: func() error { return r.firstBootDirect(ctx, dir) }},
		{name: "pgdock+example", s: plg, skip: func() bool { return !wired }, run: func() error {
			obs := pluginObs{}
			if err := r.firstBootPgdock(ctx, plg, &obs); err != nil {
				return err
			}
			if !obs.wired {
				wired = false
				plg.samples = plg.samples[:len(plg.samples)-1] // a run without the plugin is no sample
				r.progress("first boot: no plugin started with EXAMPLE_ENABLE=true (no %q line, no plugins in state.json): plugin runs skipped", patPlugin)
				return nil
			}
			if obs.handshake > 0 {
				hs.addDur(obs.handshake)
			}
			for _, v := range obs.rssMiB {
				prss.add(v)
			}
			return nil
		}},
	}
	err := interleave(r.cfg.Runs, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("first boot", round, r.cfg.Runs, name, sidesSeries(sides, name), err)
	})
	if err != nil {
		return nil
	}
	fivePct := &Goal{Text: "<= +5 %", Basis: BasisDiffPct, Limit: 5}
	pgdRest := restOf(pgd, "pgdock-entrypoint minus initdb (initdb timed from its first to its last output line)")
	ms := []Measure{
		spec{id: "first_boot_vs_pg_ctl", name: "first boot -> ready, vs initdb + pg_ctl", unit: unitMs,
			goal: fivePct, diffShown: DiffShownPercent, showP95: true,
			note: initdbNote(ctl, pgd, ctl, dir)}.measure(pgd, ctl),
		spec{id: "first_boot_vs_direct", name: "first boot -> ready, vs initdb + postgres direct", unit: unitMs,
			diffShown: DiffShownPercent, showP95: true,
			note: "informational: the direct reference starts postgres and detects readiness the way the entrypoint does (2 ms postmaster.pid poll), without pg_ctl's 100 ms poll"}.measure(pgd, dir),
		restSpec("first_boot_rest_vs_pg_ctl", "first boot minus initdb, vs pg_ctl steps").measure(pgdRest, restOf(ctl, "pg_ctl start -w; pg_ctl stop -m fast -w; pg_ctl start -w")),
		restSpec("first_boot_rest_vs_direct", "first boot minus initdb, vs direct steps").measure(pgdRest, restOf(dir, "postgres start + ready; SIGINT + exit; start + ready")),
	}
	withPlugin := spec{id: "first_boot_with_example_plugin", name: "first boot -> ready, example plugin on vs off", unit: unitMs,
		diffShown: DiffShownPercent, showP95: true}
	handshake := spec{id: "plugin_handshake_entrypoint", name: "plugin handshake in the entrypoint (log took=)", unit: unitMs, showP95: true}
	pluginRSS := spec{id: "plugin_rss_entrypoint", name: "plugin RSS, idle, started by the entrypoint", unit: unitMiB,
		goal: memoryGoal(15)}
	if !wired {
		why := "the entrypoint does not start plugins yet: with EXAMPLE_ENABLE=true and PGDOCK_PLUGIN_DIR=" + r.pluginDir +
			" it logged no \"plugin started\" line and listed no plugins in state.json"
		return append(ms, withPlugin.notMeasured(why, nil),
			restSpec("first_boot_rest_with_example_plugin", "first boot minus initdb, example plugin on vs off").notMeasured(why, nil),
			handshake.notMeasured(why, nil), pluginRSS.notMeasured(why, nil))
	}
	ref := *pgd
	ref.label = "pgdock-entrypoint without plugins (same runs as above)"
	return append(ms, withPlugin.measure(plg, &ref),
		restSpec("first_boot_rest_with_example_plugin", "first boot minus initdb, example plugin on vs off").measure(
			restOf(plg, "pgdock-entrypoint with EXAMPLE_ENABLE=true, minus initdb"), pgdRest),
		handshake.measure(hs, nil), pluginRSS.measure(prss, nil))
}

// Parts of a first boot: initdb timed from its first to its last output
// line (on every side alike), and everything else. initdb is the same
// program on every side and by far the noisiest step (its fsyncs), so the
// rest is where the entrypoint's overhead shows.
const (
	partInitdb = "initdb (first to last output line)"
	partRest   = "total minus initdb"
)

// addWindow records the initdb window of a first boot and the rest.
func (s *series) addWindow(total, initdb time.Duration) {
	if initdb <= 0 {
		return
	}
	s.addPart(partInitdb, initdb)
	s.addPart(partRest, total-initdb)
}

// restOf is the series of a first boot's time without initdb.
func restOf(s *series, label string) *series {
	return &series{label: label, samples: s.parts[partRest], err: s.err}
}

// initdbNote says how much initdb alone varied, next to the 5 % budget of
// the reference's median.
func initdbNote(ref *series, all ...*series) string {
	var v []float64
	for _, s := range all {
		v = append(v, s.parts[partInitdb]...)
	}
	if len(v) == 0 || len(ref.samples) == 0 {
		return ""
	}
	sum := Summarize(v)
	return fmt.Sprintf("initdb alone (same program on every side, fsync-bound) took %s to %s ms over all %d runs; the 5 %% budget is %s ms, so this row is noisy: see the rows without initdb",
		FormatValue(sum.Min), FormatValue(sum.Max), sum.N, FormatValue(Median(ref.samples)*0.05))
}

// restSpec is an informational comparison of first boots without initdb.
func restSpec(id, name string) restMeasure {
	return restMeasure{spec{id: id, name: name, unit: unitMs, diffShown: DiffShownAbs, showP95: true}}
}

type restMeasure struct{ spec }

// measure is spec.measure, except that a run whose log lacked initdb's
// lines (another locale) is "not measured" rather than an error.
func (rm restMeasure) measure(pg, ref *series) Measure {
	if pg.err == nil && len(pg.samples) == 0 {
		return rm.notMeasured("initdb's first/last output lines were not found in the entrypoint's output", ref)
	}
	return rm.spec.measure(pg, ref)
}

// firstBootPgdock runs the entrypoint on an empty PGDATA until ready, then
// stops it (untimed). With obs it also looks for plugins.
func (r *rig) firstBootPgdock(ctx context.Context, s *series, obs *pluginObs) error {
	sb, err := r.newSandbox("fb-pgdock")
	if err != nil {
		return err
	}
	defer r.closeSandbox(sb)
	extra := map[string]string{}
	if obs != nil {
		extra["EXAMPLE_ENABLE"] = "true"
	}
	e, err := r.startEntrypoint(sb, "entrypoint.log", extra)
	if err != nil {
		return err
	}
	defer e.abort()
	ready, err := e.waitFor(ctx, patReady, readyTimeout)
	if err != nil {
		return err
	}
	s.addDur(ready)
	e.addSteps(s, firstBootSteps())
	t0, _, ok0 := e.watch.at(patInitdbStart)
	t1, _, ok1 := e.watch.at(patInitdbEnd)
	if ok0 && ok1 {
		s.addWindow(ready, t1.Sub(t0))
	}
	if obs != nil {
		if err := sleepCtx(ctx, r.cfg.Settle); err != nil {
			return err
		}
		*obs = e.plugins()
	}
	if _, err := e.stop(ctx); err != nil {
		return err
	}
	return nil
}

// firstBootPgCtl: initdb, socket-only pg_ctl start, stop, pg_ctl start.
func (r *rig) firstBootPgCtl(ctx context.Context, s *series) error {
	sb, out, done, err := r.bareSandbox("fb-pgctl")
	if err != nil {
		return err
	}
	defer done()
	running := false
	defer func() {
		if running {
			_, _ = r.pgCtlStop(ctx, sb, out)
		}
	}()
	var window time.Duration
	t0 := time.Now()
	steps := []struct {
		name string
		run  func() (time.Duration, error)
		up   bool
	}{
		{"initdb (wall)", func() (time.Duration, error) {
			d, w, err := r.initdb(ctx, sb, out)
			window = w
			return d, err
		}, false},
		{"temporary start (pg_ctl start -w)", func() (time.Duration, error) { return r.pgCtlStart(ctx, sb, out, true) }, true},
		{"temporary stop (pg_ctl stop -m fast -w)", func() (time.Duration, error) { return r.pgCtlStop(ctx, sb, out) }, false},
		{"final start (pg_ctl start -w)", func() (time.Duration, error) { return r.pgCtlStart(ctx, sb, out, false) }, true},
	}
	for _, st := range steps {
		d, err := st.run()
		if err != nil {
			return fmt.Errorf("%s: %w", st.name, err)
		}
		running = st.up
		s.addPart(st.name, d)
	}
	total := time.Since(t0)
	s.addDur(total)
	s.addWindow(total, window)
	return nil
}

// firstBootDirect: initdb, then the entrypoint's own way of starting and
// stopping postgres, without the entrypoint.
func (r *rig) firstBootDirect(ctx context.Context, s *series) error {
	sb, out, done, err := r.bareSandbox("fb-direct")
	if err != nil {
		return err
	}
	defer done()
	t0 := time.Now()
	d, window, err := r.initdb(ctx, sb, out)
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	s.addPart("initdb (wall)", d)
	tmp, d, err := r.directStart(ctx, sb, out, true)
	if err != nil {
		return fmt.Errorf("temporary start: %w", err)
	}
	s.addPart("temporary start", d)
	d, err = directStop(tmp)
	if err != nil {
		return fmt.Errorf("temporary stop: %w", err)
	}
	s.addPart("temporary stop", d)
	srv, d, err := r.directStart(ctx, sb, out, false)
	if err != nil {
		return fmt.Errorf("final start: %w", err)
	}
	defer directAbort(srv)
	s.addPart("final start", d)
	total := time.Since(t0)
	s.addDur(total)
	s.addWindow(total, window)
	if _, err := directStop(srv); err != nil {
		return fmt.Errorf("final stop: %w", err)
	}
	return nil
}

// progressRun prints one run's result.
func (r *rig) progressRun(what string, round, n int, name string, s *series, err error) {
	if err != nil {
		r.progress("%s %d/%d %s: FAILED: %v", what, round, n, name, err)
		return
	}
	r.progress("%s %d/%d %s: %s", what, round, n, name, lastSample(s, unitMs))
}

func sidesSeries(sides []side, name string) *series {
	for _, s := range sides {
		if s.name == name {
			return s.s
		}
	}
	return nil
}
