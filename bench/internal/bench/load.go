package bench

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// loads measures SIGTERM to exit while pgbench runs a select-only load over
// the unix socket (bounded by -T and killed after the stop in any case).
func (r *rig) loads(ctx context.Context, sb *sandbox) []Measure {
	n := r.cfg.settings().LoadRuns
	pg := newSeries("pgdock-entrypoint: SIGTERM -> process exit, under load")
	ctl := newSeries("pg_ctl stop -m fast -w, under the same load")
	dir := newSeries("postgres: SIGINT -> exit, under the same load")
	sides := []side{
		{name: "pgdock", s: pg, run: func() error {
			e, err := r.startEntrypoint(sb, "entrypoint.log", nil)
			if err != nil {
				return err
			}
			defer e.abort()
			if _, err := e.waitFor(ctx, patReady, readyTimeout); err != nil {
				return err
			}
			return r.underLoad(ctx, sb, pg, func() (time.Duration, error) { return e.stop(ctx) })
		}},
		{name: "bare pg_ctl", s: ctl, run: func() error {
			out, err := sb.logFile("commands.log")
			if err != nil {
				return err
			}
			defer out.Close()
			if _, err := r.pgCtlStart(ctx, sb, out, false); err != nil {
				return err
			}
			stopped := false
			defer func() {
				if !stopped {
					_, _ = r.pgCtlStop(ctx, sb, out)
				}
			}()
			return r.underLoad(ctx, sb, ctl, func() (time.Duration, error) {
				d, err := r.pgCtlStop(ctx, sb, out)
				stopped = err == nil
				return d, err
			})
		}},
		{name: "bare direct", s: dir, run: func() error {
			out, err := sb.logFile("commands.log")
			if err != nil {
				return err
			}
			defer out.Close()
			srv, _, err := r.directStart(ctx, sb, out, false)
			if err != nil {
				return err
			}
			defer directAbort(srv)
			return r.underLoad(ctx, sb, dir, func() (time.Duration, error) { return directStop(srv) })
		}},
	}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("stop under load", round, n, name, sidesSeries(sides, name), err)
	}); err != nil {
		return nil
	}
	note := fmt.Sprintf("pgbench %s for %s before the signal; %d CPUs are shared by server, clients and the bench",
		r.cfg.settings().PgbenchFlags, r.cfg.Load, runtime.NumCPU())
	return []Measure{
		spec{id: "stop_load_vs_pg_ctl", name: "SIGTERM -> exit, pgbench load, vs pg_ctl stop", unit: unitMs,
			diffShown: DiffShownAbs, showP95: true, note: note}.measure(pg, ctl),
		spec{id: "stop_load_vs_direct", name: "SIGTERM -> exit, pgbench load, vs SIGINT to postgres", unit: unitMs,
			diffShown: DiffShownAbs, showP95: true}.measure(pg, dir),
	}
}

// underLoad starts pgbench against the running server in sb, lets it run,
// then times stop and makes sure pgbench is gone afterwards.
func (r *rig) underLoad(ctx context.Context, sb *sandbox, s *series, stop func() (time.Duration, error)) error {
	out, err := sb.logFile("pgbench.log")
	if err != nil {
		return err
	}
	defer out.Close()
	bound := r.cfg.Load + 60*time.Second // -T: an upper bound even if the bench died
	lp, _, err := startProc("pgbench", r.bareSpec(sb, r.pgbench, out,
		"-n", "-S", "-c", strconv.Itoa(loadClients), "-j", strconv.Itoa(loadThreads),
		"-T", strconv.Itoa(int(bound.Seconds())), "-h", sb.sock, "-p", strconv.Itoa(sb.port), "-U", serverUser, serverUser))
	if err != nil {
		return err
	}
	defer lp.kill()
	if err := sleepCtx(ctx, r.cfg.Load); err != nil {
		return err
	}
	if lp.exited() {
		return fmt.Errorf("pgbench ended before the signal (%v); output:\n%s", lp.err, tailFile(out.Name(), 10))
	}
	d, err := stop()
	if err != nil {
		return err
	}
	// pgbench fails once its connections are terminated; give it a moment.
	if _, err := lp.wait(ctx, 10*time.Second); err != nil {
		r.progress("pgbench did not end after the server stopped (killing it): %v", err)
	}
	s.addDur(d)
	if tps, ok := lastTPS(tailFile(out.Name(), 30)); ok {
		s.addPartValue("pgbench tps during the load (evidence of load)", tps)
	}
	return nil
}

// lastTPS finds the last "tps = N" in pgbench's output.
func lastTPS(out string) (float64, bool) {
	i := strings.LastIndex(out, "tps = ")
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(out[i+len("tps = "):])
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}
