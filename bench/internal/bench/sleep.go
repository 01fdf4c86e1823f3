package bench

import (
	"context"
)

// sleeps measures SIGTERM to exit in sleep mode (SLEEP_MODE=true: nothing
// is started).
func (r *rig) sleeps(ctx context.Context, sb *sandbox) []Measure {
	n := r.cfg.settings().SleepRuns
	s := newSeries("pgdock-entrypoint SLEEP_MODE=true: SIGTERM -> process exit")
	sides := []side{{name: "pgdock", s: s, run: func() error {
		e, err := r.startEntrypoint(sb, "sleep.log", map[string]string{"SLEEP_MODE": "true"})
		if err != nil {
			return err
		}
		defer e.abort()
		if _, err := e.waitFor(ctx, patSleep, readyTimeout); err != nil {
			return err
		}
		d, err := e.stop(ctx)
		if err != nil {
			return err
		}
		s.addDur(d)
		return nil
	}}}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		r.progressRun("sleep mode stop", round, n, name, s, err)
	}); err != nil {
		return nil
	}
	return []Measure{spec{id: "sleep_stop", name: "sleep mode: SIGTERM -> exit", unit: unitMs,
		goal: &Goal{Text: "<= 100 ms", Basis: BasisPgdockMed, Limit: 100}, showP95: true}.measure(s, nil)}
}
