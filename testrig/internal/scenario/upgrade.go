package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// EnvUpgradeScale is the pgbench scale of the upgrade benchmark (default
// DefaultUpgradeScale; 70 is about 1 GB; 0 leaves the benchmark out).
const EnvUpgradeScale = "TESTRIG_UPGRADE_SCALE"

// DefaultUpgradeScale keeps the benchmark short by default (~75 MB).
const DefaultUpgradeScale = 5

// Upgrade is the in-place major upgrade scenario (docs/upgrades.md): a
// PostgreSQL 13 volume with tables, indexes, a sequence, a view, a role with
// a password and a large object is upgraded to 15 and to 17 by the upgrade
// images (PGDOCK_UPGRADE=true); every object and row is checked, the old
// passwords log in, and the new image then restarts it normally with the
// variable still set. A crash (the container killed during pg_upgrade
// --link) is followed by a start of the old image (rolled back, data
// intact) and of the new one (upgraded). Then a benchmark: a pgbench volume
// upgraded with copy and with link, next to pg_dumpall | psql into an empty
// 15 server.
func Upgrade() Scenario {
	return Scenario{
		Name:        "upgrade",
		Description: "a PostgreSQL 13 volume upgraded in place to 15 and 17 (objects, rows, old passwords, normal restart), a crash during pg_upgrade, and the upgrade benchmark",
		Timeout:     60 * time.Minute,
		Run:         runUpgrade,
	}
}

// upgradeFixture is what the 13 cluster holds.
var upgradeFixture = []string{
	"CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int)",
	"CREATE INDEX items_name ON items (name)",
	"INSERT INTO items (name, qty) SELECT 'item ' || g, g FROM generate_series(1, 10000) g",
	"CREATE TABLE notes (item int REFERENCES items, body text)",
	"INSERT INTO notes SELECT g, repeat('note ', g % 50) FROM generate_series(1, 10000, 7) g",
	"CREATE SEQUENCE tickets START 100",
	"SELECT nextval('tickets'), nextval('tickets')",
	"CREATE VIEW big_items AS SELECT name, qty FROM items WHERE qty > 9900",
	"CREATE ROLE reader LOGIN PASSWORD 'reader pw 13'",
	"GRANT SELECT ON items, big_items TO reader",
	"SELECT lo_from_bytea(424242, 'large object payload')",
}

const upgradeUser, upgradeDB = "app", "app"

// pgStack is one container of a pgdock image on a host directory as PGDATA.
type pgStack struct {
	st   *engine.Stack
	addr string
}

// upgradeRun holds the scenario's shared inputs.
type upgradeRun struct {
	t        *T
	password string
	env      []string // PGDOCK_PASSWORD_FILE
}

func runUpgrade(ctx context.Context, t *T) {
	u := &upgradeRun{t: t, password: randomPassword()}
	var err error
	if u.env, err = secretEnv(t, u.password, 0, 0); err != nil {
		t.Fail("password file", err)
		return
	}
	for _, to := range []int{15, 17} {
		if !t.Check(fmt.Sprintf("image pgdock/postgres-upgrade:13-to-%d", to), func() error { return u.ensureUpgradeImage(ctx, 13, to) }) {
			return
		}
	}
	vol13, err := t.TempDir()
	if err != nil {
		t.Fail("volume", err)
		return
	}
	if !t.Check("a PostgreSQL 13 volume with tables, indexes, a sequence, a view, a role, a large object", func() error {
		return u.fill13(ctx, vol13)
	}) {
		return
	}
	for _, to := range []int{15, 17} {
		u.upgradeTo(ctx, vol13, to)
	}
	u.crash(ctx, vol13)
	u.bench(ctx)
}

// ensureUpgradeImage builds pgdock/postgres-upgrade:<from>-to-<to> and the
// two images it is made of with scripts/image-upgrade.sh, from the binaries
// of `make build` (cached: seconds when nothing changed). A stale image
// would test an older entrypoint.
func (u *upgradeRun) ensureUpgradeImage(ctx context.Context, from, to int) error {
	ref := fmt.Sprintf("pgdock/postgres-upgrade:%d-to-%d", from, to)
	u.t.Step("building %s (make image-upgrade FROM=%d TO=%d)", ref, from, to)
	root := u.t.Env().Root
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "image-upgrade.sh"), filepath.Join(root, "bin"), strconv.Itoa(from), strconv.Itoa(to))
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("build %s: %w: %s", ref, err, upgradeTail(string(out), 15))
	}
	return nil
}

func upgradeTail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// up starts image on dir (PGDATA) with the superuser app and extra
// environment, and waits until PostgreSQL is ready. The image's health
// check is not waited on: a long upgrade outlasts its start period.
func (u *upgradeRun) up(ctx context.Context, image, dir string, extra ...string) (*pgStack, error) {
	spec := StackSpec{
		Files: []string{DirectCompose},
		Env:   u.env,
		Adjust: func(p *types.Project) error {
			svc := p.Services[svcPostgres]
			svc.Image = image
			p.Services[svcPostgres] = svc
			if err := composefile.ReplaceMount(p, svcPostgres, dir, DefaultPGData); err != nil {
				return err
			}
			return composefile.SetEnv(p, svcPostgres, append([]string{"POSTGRES_USER=" + upgradeUser, "POSTGRES_DB=" + upgradeDB}, extra...)...)
		},
	}
	st, err := u.t.Up(ctx, spec, engine.Hooks{})
	if err != nil {
		return nil, err
	}
	s := &pgStack{st: st}
	if err := waitLog(ctx, st, svcPostgres, pgdockReady, 20*time.Minute); err != nil {
		return s, err
	}
	s.addr, err = st.HostAddr(ctx, svcPostgres, 5432)
	return s, err
}

// waitLog polls the service's output until it holds substr.
func waitLog(ctx context.Context, st *engine.Stack, service, substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		lines, err := st.Logs(ctx, service)
		if err == nil {
			for _, l := range lines {
				if strings.Contains(l.Text, substr) {
					return nil
				}
			}
		}
		ci, ierr := st.Inspect(ctx, service)
		if ierr == nil && ci.State != nil && !ci.State.Running {
			return withLogs(ctx, st, service, fmt.Errorf("%s exited (code %d) before logging %q", service, ci.State.ExitCode, substr))
		}
		if time.Now().After(deadline) {
			return withLogs(ctx, st, service, fmt.Errorf("%q not logged within %s", substr, timeout))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (s *pgStack) logs(ctx context.Context) string {
	lines, _ := s.st.Logs(ctx, svcPostgres)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func (s *pgStack) stop(ctx context.Context) error {
	r, err := s.st.Stop(ctx, svcPostgres, 60*time.Second)
	if err != nil {
		return err
	}
	if r.ExitCode != 0 {
		return withLogs(ctx, s.st, svcPostgres, fmt.Errorf("stopped with exit code %d", r.ExitCode))
	}
	return nil
}

func (u *upgradeRun) fill13(ctx context.Context, dir string) error {
	s, err := u.up(ctx, "pgdock/postgres:13", dir)
	if err != nil {
		return err
	}
	c, err := pgConnect(ctx, s.addr, upgradeUser, u.password, upgradeDB)
	if err != nil {
		return err
	}
	for _, q := range upgradeFixture {
		if _, err := c.Exec(ctx, q); err != nil {
			c.Close(ctx)
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	c.Close(ctx)
	if err := u.checkData(ctx, s.addr, 13); err != nil {
		return err
	}
	return s.stop(ctx)
}

// checkData checks every object and row of the fixture on the server at
// addr, logging in with the passwords set in 13.
func (u *upgradeRun) checkData(ctx context.Context, addr string, major int) error {
	c, err := pgConnect(ctx, addr, upgradeUser, u.password, upgradeDB)
	if err != nil {
		return fmt.Errorf("log in as %s with the old password: %w", upgradeUser, err)
	}
	defer c.Close(ctx)
	checks := []struct{ sql, want string }{
		{"SELECT current_setting('server_version_num')::int / 10000", strconv.Itoa(major)},
		{"SELECT count(*) || ' ' || sum(qty) FROM items", "10000 50005000"},
		{"SELECT count(*) || ' ' || sum(length(body)) FROM notes", "1429 175105"},
		{"SELECT count(*) FROM notes n JOIN items i ON i.id = n.item", "1429"},
		{"SELECT indexdef FROM pg_indexes WHERE indexname = 'items_name'", "CREATE INDEX items_name ON public.items USING btree (name)"},
		{"SELECT last_value FROM tickets", "101"},
		{"SELECT count(*) FROM big_items", "100"},
		{"SELECT convert_from(lo_get(424242), 'UTF8')", "large object payload"},
		{"SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reader'", "true"},
	}
	for _, ch := range checks {
		var got string
		if err := c.QueryRow(ctx, "SELECT ("+ch.sql+")::text").Scan(&got); err != nil {
			return fmt.Errorf("%s: %w", ch.sql, err)
		}
		if got != ch.want {
			return fmt.Errorf("%s: got %q, want %q", ch.sql, got, ch.want)
		}
	}
	r, err := pgConnect(ctx, addr, "reader", "reader pw 13", upgradeDB)
	if err != nil {
		return fmt.Errorf("log in as reader with its old password: %w", err)
	}
	defer r.Close(ctx)
	var n int
	if err := r.QueryRow(ctx, "SELECT count(*) FROM big_items").Scan(&n); err != nil || n != 100 {
		return fmt.Errorf("reader's view: %d rows, %v", n, err)
	}
	return nil
}

// copyVolume copies a stopped volume (owners and modes kept).
func copyVolume(src, dst string) error {
	out, err := exec.Command("cp", "-a", src+"/.", dst+"/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp -a %s %s: %w: %s", src, dst, err, out)
	}
	return nil
}

// upgradeTo upgrades a copy of the 13 volume with the upgrade image, checks
// it, then restarts it with pgdock/postgres:<to> (PGDOCK_UPGRADE still set).
func (u *upgradeRun) upgradeTo(ctx context.Context, vol13 string, to int) {
	t := u.t
	name := fmt.Sprintf("13→%d", to)
	dir, err := t.TempDir()
	if err == nil {
		err = copyVolume(vol13, dir)
	}
	if err != nil {
		t.Fail(name+": volume", err)
		return
	}
	var s *pgStack
	if !t.Check(name+": PGDOCK_UPGRADE=true on pgdock/postgres-upgrade:13-to-"+strconv.Itoa(to), func() error {
		begin := time.Now()
		var err error
		s, err = u.up(ctx, fmt.Sprintf("pgdock/postgres-upgrade:13-to-%d", to), dir, "PGDOCK_UPGRADE=true")
		if err != nil {
			return err
		}
		t.Measure("upgrade "+name+" (copy mode), start to ready", time.Since(begin))
		if d, ok := upgradeTook(s.logs(ctx)); ok {
			t.Measure("upgrade "+name+" (copy mode), pgdock's upgrade step", d)
		}
		logs := s.logs(ctx)
		for _, want := range []string{"pg_upgrade --check", "upgrade complete", "PostgreSQL is ready"} {
			if !strings.Contains(logs, want) {
				return fmt.Errorf("the output has no %q", want)
			}
		}
		return nil
	}) {
		return
	}
	if !t.Check(name+": every object and row, the old passwords", func() error { return u.checkData(ctx, s.addr, to) }) {
		return
	}
	if !t.Check(name+": stop", func() error { return s.stop(ctx) }) {
		return
	}
	t.Check(name+": restart on pgdock/postgres:"+strconv.Itoa(to)+" with PGDOCK_UPGRADE still set: a normal start", func() error {
		s, err := u.up(ctx, fmt.Sprintf("pgdock/postgres:%d", to), dir, "PGDOCK_UPGRADE=true")
		if err != nil {
			return err
		}
		if logs := s.logs(ctx); !strings.Contains(logs, "nothing to upgrade") || strings.Contains(logs, "pg_upgrade --check") {
			return fmt.Errorf("not a normal start:\n%s", upgradeTail(logs, 10))
		}
		if err := u.checkData(ctx, s.addr, to); err != nil {
			return err
		}
		return s.stop(ctx)
	})
}

// upgradeTook is the time from the upgrade's first line to its last in a
// container's output (the entrypoint's own log timestamps, [2006-01-02T15:04:05Z]).
func upgradeTook(logs string) (time.Duration, bool) {
	var start, end time.Time
	for _, l := range strings.Split(logs, "\n") {
		i := strings.Index(l, "[")
		j := strings.Index(l, "]")
		if i < 0 || j < i {
			continue
		}
		at, err := time.Parse(time.RFC3339, l[i+1:j])
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(l, "upgrade: PostgreSQL"):
			start = at
		case strings.Contains(l, "upgrade complete"):
			end = at
		}
	}
	return end.Sub(start), !start.IsZero() && !end.IsZero()
}

// crash kills the container during pg_upgrade --link, then starts the old
// image (which rolls back) and the new one (which upgrades).
func (u *upgradeRun) crash(ctx context.Context, vol13 string) {
	t := u.t
	dir, err := t.TempDir()
	if err == nil {
		err = copyVolume(vol13, dir)
	}
	if err != nil {
		t.Fail("crash: volume", err)
		return
	}
	if !t.Check("crash: the container killed during pg_upgrade --link", func() error {
		spec := StackSpec{Files: []string{DirectCompose}, Env: u.env, Adjust: func(p *types.Project) error {
			svc := p.Services[svcPostgres]
			svc.Image = "pgdock/postgres-upgrade:13-to-15"
			p.Services[svcPostgres] = svc
			if err := composefile.ReplaceMount(p, svcPostgres, dir, DefaultPGData); err != nil {
				return err
			}
			return composefile.SetEnv(p, svcPostgres, "POSTGRES_USER="+upgradeUser, "POSTGRES_DB="+upgradeDB,
				"PGDOCK_UPGRADE=true", "PGDOCK_UPGRADE_MODE=link")
		}}
		st, err := t.Up(ctx, spec, engine.Hooks{})
		if err != nil {
			return err
		}
		if err := waitLog(ctx, st, svcPostgres, "4/6 pg_upgrade", 10*time.Minute); err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // into the linking
		if err := t.Env().Driver.Client().ContainerKill(ctx, st.ID(svcPostgres), "KILL"); err != nil {
			return err
		}
		_, err = st.WaitExit(ctx, svcPostgres, time.Minute)
		if _, serr := os.Stat(filepath.Join(dir, ".pgdock-upgrade")); serr != nil {
			return errors.New("killed too late: no upgrade was in progress")
		}
		return err
	}) {
		return
	}
	if !t.Check("crash: the old image (13) starts the volume, rolled back, data intact", func() error {
		s, err := u.up(ctx, "pgdock/postgres:13", dir)
		if err != nil {
			return err
		}
		if !strings.Contains(s.logs(ctx), "rolled back the interrupted upgrade") {
			return errors.New("no rollback in the output")
		}
		if err := u.checkData(ctx, s.addr, 13); err != nil {
			return err
		}
		return s.stop(ctx)
	}) {
		return
	}
	t.Check("crash: the new image upgrades it afterwards, data intact", func() error {
		s, err := u.up(ctx, "pgdock/postgres-upgrade:13-to-15", dir, "PGDOCK_UPGRADE=true", "PGDOCK_UPGRADE_MODE=link")
		if err != nil {
			return err
		}
		if err := u.checkData(ctx, s.addr, 15); err != nil {
			return err
		}
		return s.stop(ctx)
	})
}

// upgradeScale reads EnvUpgradeScale.
func upgradeScale() (int, error) {
	v := strings.TrimSpace(os.Getenv(EnvUpgradeScale))
	if v == "" {
		return DefaultUpgradeScale, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 10000 {
		return 0, fmt.Errorf("%s=%q: a pgbench scale from 0 (no benchmark) to 10000 (70 is about 1 GB)", EnvUpgradeScale, v)
	}
	return n, nil
}

// bench times, on one pgbench volume: the upgrade to 15 with copy and with
// link, and pg_dumpall | psql from the 13 server into an empty 15 one.
func (u *upgradeRun) bench(ctx context.Context) {
	t := u.t
	scale, err := upgradeScale()
	if err != nil {
		t.Fail("bench", err)
		return
	}
	if scale == 0 {
		t.Skip("bench", EnvUpgradeScale+"=0")
		return
	}
	src, err := t.TempDir()
	if err != nil {
		t.Fail("bench: volume", err)
		return
	}
	var size string
	if !t.Check(fmt.Sprintf("bench: a 13 volume with pgbench -i -s %d", scale), func() error {
		s, err := u.up(ctx, "pgdock/postgres:13", src)
		if err != nil {
			return err
		}
		out, code, err := s.st.Exec(ctx, svcPostgres, "postgres", "pgbench", "-i", "-q", "-s", strconv.Itoa(scale), "-U", upgradeUser, upgradeDB)
		if err != nil || code != 0 {
			return fmt.Errorf("pgbench -i: exit %d, %v: %s", code, err, upgradeTail(out, 5))
		}
		c, err := pgConnect(ctx, s.addr, upgradeUser, u.password, upgradeDB)
		if err != nil {
			return err
		}
		size, err = queryString(ctx, c, "SELECT pg_size_pretty(sum(pg_database_size(datname))) FROM pg_database")
		c.Close(ctx)
		if err != nil {
			return err
		}
		return s.stop(ctx)
	}) {
		return
	}
	for _, mode := range []string{"copy", "link"} {
		t.Check(fmt.Sprintf("bench: upgrade 13→15, %s mode (scale %d, %s)", mode, scale, size), func() error {
			dir, err := t.TempDir()
			if err == nil {
				err = copyVolume(src, dir)
			}
			if err != nil {
				return err
			}
			begin := time.Now()
			s, err := u.up(ctx, "pgdock/postgres-upgrade:13-to-15", dir, "PGDOCK_UPGRADE=true", "PGDOCK_UPGRADE_MODE="+mode)
			if err != nil {
				return err
			}
			t.Measure(fmt.Sprintf("bench: pg_upgrade %s, scale %d (%s), start to ready", mode, scale, size), time.Since(begin))
			if d, ok := upgradeTook(s.logs(ctx)); ok {
				t.Measure(fmt.Sprintf("bench: pg_upgrade %s, scale %d (%s), upgrade step", mode, scale, size), d)
			}
			return s.stop(ctx)
		})
	}
	t.Check(fmt.Sprintf("bench: pg_dumpall | psql from 13 into an empty 15 (scale %d, %s)", scale, size), func() error {
		empty, err := t.TempDir()
		if err != nil {
			return err
		}
		old, err := u.up(ctx, "pgdock/postgres:13", src)
		if err != nil {
			return err
		}
		s, err := u.up(ctx, "pgdock/postgres:15", empty)
		if err != nil {
			return err
		}
		// The host's PostgreSQL 15 client (make deps), through the
		// published ports: the newer pg_dumpall, as PostgreSQL advises.
		oldHost, oldPort, _ := strings.Cut(old.addr, ":")
		newHost, newPort, _ := strings.Cut(s.addr, ":")
		cmd := exec.CommandContext(ctx, "bash", "-c", `set -eo pipefail; pg_dumpall -h "$1" -p "$2" -U `+upgradeUser+
			` | psql -X -q -v ON_ERROR_STOP=0 -h "$3" -p "$4" -U `+upgradeUser+` -d postgres >/dev/null`,
			"dump", oldHost, oldPort, newHost, newPort)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+u.password, "PGSSLMODE=disable")
		begin := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(begin)
		if err != nil {
			return fmt.Errorf("pg_dumpall | psql: %w: %s", err, upgradeTail(string(out), 10))
		}
		t.Measure(fmt.Sprintf("bench: pg_dumpall | psql, scale %d (%s)", scale, size), took)
		c, err := pgConnect(ctx, s.addr, upgradeUser, u.password, upgradeDB)
		if err != nil {
			return err
		}
		n, err := queryString(ctx, c, "SELECT count(*)::text FROM pgbench_accounts")
		c.Close(ctx)
		if err != nil {
			return err
		}
		if n != strconv.Itoa(scale*100000) {
			return fmt.Errorf("pgbench_accounts has %s rows after the restore, want %d", n, scale*100000)
		}
		if err := old.stop(ctx); err != nil {
			return err
		}
		return s.stop(ctx)
	})
}
