package scenario

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// userCase is one way users run the image as a non-root uid.
type userCase struct {
	Lane string
	User string // --user
	// Bind: PGDATA is a host directory owned by UID:GID (mode 0700) instead
	// of the compose file's volume.
	Bind     bool
	UID, GID int
	// PGData overrides PGDATA with this subdirectory of the image's PGDATA,
	// which the image creates mode 1777 (up to 17 it is the volume): as the
	// official image's documentation advises for arbitrary uids.
	PGData string
}

// userCases are the three forms the official image documents.
var userCases = []userCase{
	{Lane: "--user 999:999", User: "999:999", UID: 999, GID: 999},
	{Lane: "--user 4242:4242 on a bind dir", User: "4242:4242", Bind: true, UID: 4242, GID: 4242},
	{Lane: "--user 12345:0", User: "12345:0", UID: 12345, GID: 0, PGData: "pgdata"},
}

// User runs the image as --user 999:999, as an arbitrary uid on a bind
// directory it owns, and as uid:0; each must reach healthy with no error in
// the server log and stop cleanly.
func User() Scenario {
	return Scenario{
		Name:        "user",
		Description: "compose/direct run as --user 999:999 (named volume), --user 4242:4242 on a bind directory that uid owns, and --user 12345:0 (PGDATA a subdirectory of the volume): each reaches healthy, accepts the password, owns its files, logs no ERROR/FATAL and stops with exit 0.",
		Budgets:     []budget.Budget{budget.PlanStartup, budget.PlanShutdown, budget.GoalStop},
		Run:         runUser,
		PerMajor:    true,
	}
}

func runUser(ctx context.Context, t *T) {
	for _, uc := range userCases {
		if ctx.Err() != nil {
			t.Fail(uc.Lane, ctx.Err())
			return
		}
		runUserCase(ctx, t, uc)
	}
}

func runUserCase(ctx context.Context, t *T, uc userCase) {
	fb := pgFirstBoot{Password: randomPassword()}
	pgdata := t.Env().PGDataDir()
	if uc.PGData != "" {
		pgdata = path.Join(t.Env().PGDataDir(), uc.PGData)
	}
	var bindDir string
	if uc.Bind {
		d, err := t.TempDir()
		if err == nil {
			bindDir = path.Join(d, "data")
			err = os.Mkdir(bindDir, 0o700)
		}
		if err == nil {
			err = os.Chown(bindDir, uc.UID, uc.GID)
		}
		if err != nil {
			t.Fail(uc.Lane+": bind directory owned by the uid", fmt.Errorf("%w (the rig runs as root to chown it)", err))
			return
		}
	}
	// The password comes through the compose file's secret, as users run
	// it: a 0600 file the --user uid owns.
	env, err := secretEnv(t, fb.Password, uc.UID, uc.GID)
	if err != nil {
		t.Fail(uc.Lane+": password file", err)
		return
	}
	service := svcPostgres
	spec := StackSpec{
		Files: []string{DirectCompose},
		Env:   env,
		Adjust: func(p *types.Project) error {
			svc, ok := p.Services[service]
			if !ok {
				return fmt.Errorf("no %s service in %s", service, DirectCompose)
			}
			svc.User = uc.User
			p.Services[service] = svc
			if uc.PGData != "" {
				if err := composefile.SetEnv(p, service, "PGDATA="+pgdata); err != nil {
					return err
				}
			}
			if uc.Bind {
				return composefile.ReplaceMount(p, service, bindDir, t.Env().VolumeDir())
			}
			return nil
		},
	}
	var st *engine.Stack
	bt := bootTimes{}
	if !t.Check(uc.Lane+": up", func() error {
		bt.Up = time.Now()
		var err error
		st, err = t.Up(ctx, spec, bt.hooks(service))
		return err
	}) {
		return
	}
	if !bt.checkBoot(ctx, t, st, service, uc.Lane, uc.Lane+": reaches healthy", false, budget.MetricHealthy) {
		return
	}
	t.Check(uc.Lane+": password login over TCP", func() error {
		addr, err := st.HostAddr(ctx, service, 5432)
		if err != nil {
			return err
		}
		c, err := pgConnect(ctx, addr, "postgres", fb.Password, "postgres")
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = queryString(ctx, c, "select version()")
		return err
	})
	t.Check(uc.Lane+": PGDATA belongs to the uid", func() error {
		out, code, err := st.Exec(ctx, service, "0", "stat", "-c", "%u", path.Join(pgdata, "PG_VERSION"))
		if err != nil {
			return err
		}
		if code != 0 || strings.TrimSpace(out) != fmt.Sprint(uc.UID) {
			return fmt.Errorf("owner of %s/PG_VERSION: %q (exit %d), want %d", pgdata, strings.TrimSpace(out), code, uc.UID)
		}
		return nil
	})
	if !timedStop(ctx, t, st, service, uc.Lane, budget.MetricStop) {
		return
	}
	t.Check(uc.Lane+": no ERROR/FATAL in the server log", func() error {
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
