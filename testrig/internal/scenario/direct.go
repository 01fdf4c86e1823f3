package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// Direct is the direct stack as users run it: first boot with the official
// variables and init scripts of every kind, a decoderbufs logical slot with
// wal_level=logical from the environment, a restart that keeps the data,
// health going starting → healthy, docker stop exiting 0 inside the budget.
func Direct() Scenario {
	return Scenario{
		Name:        "direct",
		Description: "compose/direct: up exactly as users run it (healthy ≤ 5 s, docker stop ≤ 2 s); then a first boot with POSTGRES_PASSWORD/USER/DB, init scripts (.sh executed and sourced, .sql, .sql.gz, .sql.xz, .sql.zst), decoderbufs slot with wal_level=logical from POSTGRESQL_CONFIG_WAL_LEVEL, health starting → healthy, docker stop, restart keeps data, docker stop.",
		Budgets: []budget.Budget{
			budget.PlanStartup, budget.GoalHealthy, budget.PlanStartup.For(budget.MetricInitBoot),
			budget.PlanStartup.For(budget.MetricRestart), budget.GoalHealthy.For(budget.MetricRestart),
			budget.PlanShutdown, budget.GoalStop,
		},
		Run:      runDirect,
		PerMajor: true,
	}
}

// pgFirstBoot is what a postgres service is started with for a first boot.
type pgFirstBoot struct {
	User, Password, DB string
}

// officialEnv adjusts the postgres service for a first boot with the official
// variables; a _FILE variant set by the compose file would conflict, so it
// is dropped.
func (f pgFirstBoot) adjust(p *types.Project, service string, extra ...string) error {
	svc := p.Services[service]
	for _, k := range []string{"POSTGRES_PASSWORD_FILE", "POSTGRES_USER_FILE", "POSTGRES_DB_FILE"} {
		delete(svc.Environment, k)
	}
	p.Services[service] = svc
	kv := []string{"POSTGRES_PASSWORD=" + f.Password}
	if f.User != "" {
		kv = append(kv, "POSTGRES_USER="+f.User)
	}
	if f.DB != "" {
		kv = append(kv, "POSTGRES_DB="+f.DB)
	}
	return composefile.SetEnv(p, service, append(kv, extra...)...)
}

// bootTimes is what bringing a postgres container up measured.
type bootTimes struct {
	Up, Created, Started, Ready, Healthy time.Time
	Watch                                engine.HealthWatch
}

// hooks record when service's container was created and started.
func (bt *bootTimes) hooks(service string) engine.Hooks {
	return engine.Hooks{
		Created: func(s string, at time.Time) {
			if s == service {
				bt.Created = at
			}
		},
		Started: func(s string, at time.Time) {
			if s == service {
				bt.Started = at
			}
		},
	}
}

// bootPostgres starts (stack Up, or Start of a stopped container when
// restart) and waits for healthy, recording the phases on lane.
func bootPostgres(ctx context.Context, t *T, st *engine.Stack, service, lane string, up time.Time, restart bool) (bootTimes, error) {
	bt := bootTimes{Up: up}
	if restart {
		t.Step("%s: start", lane)
		if err := st.Start(ctx, service); err != nil {
			return bt, err
		}
		bt.Started = time.Now()
	}
	t.Step("%s: waiting for healthy", lane)
	w, err := st.WaitHealthy(ctx, service, 90*time.Second)
	bt.Watch = w
	if err != nil {
		return bt, withLogs(ctx, st, service, err)
	}
	bt.Healthy = w.HealthyAt
	if !w.ProbeEnd.IsZero() && w.ProbeEnd.After(up) && w.ProbeEnd.Before(w.HealthyAt) {
		bt.Healthy = w.ProbeEnd // the Engine's own time of the passing probe
	}
	if lines, err := st.Logs(ctx, service); err == nil {
		if at, ok := logTime(lines, pgdockReady, up); ok {
			bt.Ready = at
		}
	}
	return bt, nil
}

// checkBoot is the check named check around bootPostgres of service from
// bt.Up: the phases go on lane's timeline whatever the outcome, "failed" is
// marked when it fails, and metric is measured from bt.Up to healthy. It
// reports whether the service became healthy.
func (bt *bootTimes) checkBoot(ctx context.Context, t *T, st *engine.Stack, service, lane, check string, restart bool, metric string) bool {
	if !t.Check(check, func() error {
		b, err := bootPostgres(ctx, t, st, service, lane, bt.Up, restart)
		bt.Watch, bt.Ready, bt.Healthy = b.Watch, b.Ready, b.Healthy
		if !b.Started.IsZero() { // a restart's docker start (a first boot's comes from the hooks)
			bt.Started = b.Started
		}
		return err
	}) {
		bt.timeline(t, lane)
		t.Mark(lane, "failed", time.Now())
		return false
	}
	bt.timeline(t, lane)
	t.Measure(metric, bt.Healthy.Sub(bt.Up))
	return true
}

// timeline puts a boot on the timeline.
func (bt bootTimes) timeline(t *T, lane string) {
	if !bt.Created.IsZero() {
		t.Span(lane, "create", bt.Up, bt.Created)
	}
	startFrom := bt.Created // a restart has no create: docker start begins at Up
	if startFrom.IsZero() {
		startFrom = bt.Up
	}
	if !bt.Started.IsZero() {
		t.Span(lane, "docker start", startFrom, bt.Started)
	}
	if !bt.Started.IsZero() {
		if !bt.Ready.IsZero() {
			t.Span(lane, "start → ready", bt.Started, bt.Ready)
			t.Span(lane, "ready → healthy", bt.Ready, bt.Healthy)
		} else {
			t.Span(lane, "start → healthy", bt.Started, bt.Healthy)
		}
	}
	t.Mark(lane, "ready", bt.Ready)
	t.Mark(lane, "healthy", bt.Healthy)
}

// timedStop stops a service, records the stop metric and its span, and
// checks that it exited 0 (pgdock's promise for a requested stop).
func timedStop(ctx context.Context, t *T, st *engine.Stack, service, lane, metric string) bool {
	return t.Check(lane+": docker stop exits 0", func() error {
		return stopAndMeasure(ctx, t, st, service, lane, metric, true)
	})
}

// timedStopNotKilled is timedStop for programs pgdock does not own (the
// exporter, Prometheus): a Go program dies of SIGTERM with exit status 2,
// which is an orderly stop; only the Engine's SIGKILL after the grace period
// (137) fails.
func timedStopNotKilled(ctx context.Context, t *T, st *engine.Stack, service, lane, metric string) bool {
	return t.Check(lane+": docker stop ends it before the grace period (no SIGKILL)", func() error {
		return stopAndMeasure(ctx, t, st, service, lane, metric, false)
	})
}

func stopAndMeasure(ctx context.Context, t *T, st *engine.Stack, service, lane, metric string, wantZero bool) error {
	{
		begin := time.Now()
		r, err := st.Stop(ctx, service, 0)
		if err != nil {
			return err
		}
		t.Span(lane, "docker stop", begin, begin.Add(r.Took))
		t.Mark(lane, "exited", begin.Add(r.Took))
		t.Measure(metric, r.Took)
		if r.ExitCode == 137 || (wantZero && r.ExitCode != 0) {
			return withLogs(ctx, st, service, fmt.Errorf("exit code %d after %s (137: the Engine had to SIGKILL)", r.ExitCode, r.Took.Round(time.Millisecond)))
		}
		if r.ExitCode != 0 {
			t.Env().Log.Info("stopped with a non-zero status", zap.String("service", service), zap.Int("exit", r.ExitCode))
		}
		return nil
	}
}

func runDirect(ctx context.Context, t *T) {
	if !runDirectPlain(ctx, t) {
		return
	}
	runDirectFirstBoot(ctx, t)
}

// runDirectPlain brings up compose/direct exactly as a user does (the
// password through its secret file, nothing else changed but the published
// port), times healthy and docker stop against pgdock's goals, and removes it.
func runDirectPlain(ctx context.Context, t *T) bool {
	lane := "as users run it"
	env, err := secretEnv(t, randomPassword(), 0, 0)
	if err != nil {
		t.Fail("prepare the password file", err)
		return false
	}
	service := svcPostgres
	bt := bootTimes{}
	var st *engine.Stack
	if !t.Check(lane+": up", func() error {
		bt.Up = time.Now()
		st, err = t.Up(ctx, StackSpec{Files: []string{DirectCompose}, Env: env}, bt.hooks(service))
		return err
	}) {
		return false
	}
	if !bt.checkBoot(ctx, t, st, service, lane, lane+": reaches healthy", false, budget.MetricHealthy) {
		return false
	}
	ok := timedStop(ctx, t, st, service, lane, budget.MetricStop)
	t.Check(lane+": down", func() error { return st.Down(ctx) })
	return ok
}

func runDirectFirstBoot(ctx context.Context, t *T) {
	fb := pgFirstBoot{User: "rig_admin", Password: randomPassword(), DB: "rig_db"}
	initDir, err := t.TempDir()
	if err != nil {
		t.Fail("prepare init scripts", err)
		return
	}
	scripts, err := writeInitScripts(initDir)
	if err != nil {
		t.Fail("prepare init scripts", err)
		return
	}
	env, err := secretEnv(t, fb.Password, 0, 0)
	if err != nil {
		t.Fail("prepare the password file", err)
		return
	}
	service := svcPostgres
	spec := StackSpec{
		Files: []string{DirectCompose},
		Env:   env,
		Adjust: func(p *types.Project) error {
			// The official variables, not the compose file's _FILE secret.
			if err := fb.adjust(p, service, "POSTGRESQL_CONFIG_WAL_LEVEL=logical"); err != nil {
				return err
			}
			return composefile.AddBind(p, service, initDir, "/docker-entrypoint-initdb.d", true)
		},
	}
	lane := "first boot, init scripts"
	bt := bootTimes{}
	var st *engine.Stack
	if !t.Check("up with the official variables and init scripts", func() error {
		bt.Up = time.Now()
		var err error
		st, err = t.Up(ctx, spec, bt.hooks(service))
		return err
	}) {
		return
	}
	if !bt.checkBoot(ctx, t, st, service, lane, "first boot reaches healthy", false, budget.MetricInitBoot) {
		return
	}
	t.Check("health goes starting → healthy", func() error {
		s := bt.Watch.Statuses
		if len(s) < 2 || s[0] != "starting" || s[len(s)-1] != "healthy" {
			return fmt.Errorf("health statuses seen: %v, want starting … healthy", s)
		}
		return nil
	})
	t.Check("ready line in the log", func() error {
		if bt.Ready.IsZero() {
			return withLogs(ctx, st, service, fmt.Errorf("no %q line", pgdockReady))
		}
		return nil
	})

	addr, err := st.HostAddr(ctx, service, 5432)
	if err != nil {
		t.Fail("published port", err)
		return
	}
	sqlBegin := time.Now()
	t.Check("connect as POSTGRES_USER to POSTGRES_DB with POSTGRES_PASSWORD", func() error {
		c, err := pgConnect(ctx, addr, fb.User, fb.Password, fb.DB)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var user, db string
		if err := c.QueryRow(ctx, "select current_user, current_database()").Scan(&user, &db); err != nil {
			return err
		}
		if user != fb.User || db != fb.DB {
			return fmt.Errorf("connected as %s to %s, want %s to %s", user, db, fb.User, fb.DB)
		}
		var super bool
		if err := c.QueryRow(ctx, "select rolsuper from pg_roles where rolname = current_user").Scan(&super); err != nil {
			return err
		}
		if !super {
			return errors.New("POSTGRES_USER is not a superuser")
		}
		return nil
	})
	t.Check(fmt.Sprintf("init scripts of every kind ran once, in order (%s)", strings.Join(scripts, ", ")), func() error {
		c, err := pgConnect(ctx, addr, fb.User, fb.Password, fb.DB)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		rows, err := c.Query(ctx, "select kind from rig_init order by at, kind")
		if err != nil {
			return err
		}
		got, err := collectStrings(rows)
		if err != nil {
			return err
		}
		want := []string{"sql", "sh-exec", "sh-sourced", "sql.gz", "sql.xz", "sql.zst"}
		if !slices.Equal(got, want) {
			return fmt.Errorf("rig_init holds %v, want %v", got, want)
		}
		return nil
	})
	t.Check("write a row over TCP", func() error {
		c, err := pgConnect(ctx, addr, fb.User, fb.Password, fb.DB)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "insert into rig_data values (2, 'written before the stop')")
		return err
	})
	// decoderbufs where the image has it (Debian packages it for 15 and 17,
	// not for 13): else the same check with test_decoding, and a skip
	// saying why.
	plugin := "decoderbufs"
	if out, code, err := st.Exec(ctx, service, "0", "sh", "-c", "ls /usr/lib/postgresql/*/lib/decoderbufs.so"); err == nil && code != 0 {
		plugin = "test_decoding"
		t.Skip("decoderbufs logical slot", "the image has no decoderbufs ("+strings.TrimSpace(out)+"); its Debian release packages none for this major: the slot check runs with test_decoding")
	}
	slotMade := t.Check(plugin+" logical slot with wal_level=logical from the environment", func() error {
		c, err := pgConnect(ctx, addr, fb.User, fb.Password, fb.DB)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		wl, err := queryString(ctx, c, "show wal_level")
		if err != nil {
			return err
		}
		if wl != "logical" {
			return fmt.Errorf("wal_level is %q, want logical (POSTGRESQL_CONFIG_WAL_LEVEL=logical)", wl)
		}
		if _, err := c.Exec(ctx, "select pg_create_logical_replication_slot('s', $1)", plugin); err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "insert into rig_data values (3, 'decoded')"); err != nil {
			return err
		}
		var n int
		if err := c.QueryRow(ctx, "select count(*) from pg_logical_slot_get_binary_changes('s', NULL, NULL)").Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s decoded no change for an insert", plugin)
		}
		return nil
	})
	t.Span("checks", "SQL checks", sqlBegin, time.Now())

	if !timedStop(ctx, t, st, service, lane, budget.MetricStop) {
		return
	}

	lane = "restart"
	rt := bootTimes{Up: time.Now()}
	if !rt.checkBoot(ctx, t, st, service, lane, "restart reaches healthy", true, budget.MetricRestart) {
		return
	}
	t.Check("restart keeps data and skips initialization", func() error {
		lines, err := st.Logs(ctx, service)
		if err != nil {
			return err
		}
		if _, ok := logTime(lines, skipInit, rt.Up); !ok {
			return fmt.Errorf("no %q line after the restart", skipInit)
		}
		addr, err := st.HostAddr(ctx, service, 5432) // the host port may change on restart
		if err != nil {
			return err
		}
		c, err := pgConnect(ctx, addr, fb.User, fb.Password, fb.DB)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		note, err := queryString(ctx, c, "select string_agg(note, ',' order by id) from rig_data where id <= 2")
		if err != nil {
			return err
		}
		if note != "kept across restarts,written before the stop" {
			return fmt.Errorf("rig_data after restart: %q", note)
		}
		if !slotMade {
			return nil // the slot check already failed; nothing more to keep
		}
		slot, err := queryString(ctx, c, "select plugin from pg_replication_slots where slot_name = 's'")
		if err != nil {
			return fmt.Errorf("logical slot after restart: %w", err)
		}
		if slot != plugin {
			return fmt.Errorf("slot s uses %q", slot)
		}
		return nil
	})
	if !timedStop(ctx, t, st, service, lane, budget.MetricStop) {
		return
	}
	t.Check("no ERROR/FATAL in the server log", func() error {
		lines, err := st.Logs(ctx, service)
		if err != nil {
			return err
		}
		if bad := errorLines(lines); len(bad) > 0 {
			return fmt.Errorf("%d error lines, first: %s", len(bad), bad[0])
		}
		return nil
	})
}

type stringRows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close()
}

func collectStrings(rows stringRows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
