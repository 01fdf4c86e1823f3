package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/pgversion"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

// TestCheckSettingsNamesTheVariable: the server's verdict comes back per
// variable (the legacy named ones and POSTGRESQL_CONFIG_*), as one
// ValidationError; pgdock's own default listen_addresses is never sent.
func TestCheckSettingsNamesTheVariable(t *testing.T) {
	pg := testpg.Setup(t)
	r, _ := testRunner(t, map[string]string{
		"PGDATA":                           t.TempDir(),
		"POSTGRESQL_SHARED_BUFFERS":        "0",
		"POSTGRESQL_CONFIG_SHARED_BUFERS":  "1",
		"POSTGRESQL_CONFIG_CRON__DATABASE": "app",
		"POSTGRESQL_CONFIG_WORK_MEM":       "8MB",
	})
	r.bin = pg.Bin
	err := r.checkSettings(context.Background())
	var ve *config.ValidationError
	require.ErrorAs(t, err, &ve)
	got := map[string]string{}
	for _, p := range ve.Problems {
		got[p.Var] = p.Message
	}
	assert.Len(t, got, 2, "%v", ve.Problems)
	assert.Contains(t, got["POSTGRESQL_SHARED_BUFFERS"], "PostgreSQL refuses shared_buffers: 0 8kB is outside the valid range")
	assert.Contains(t, got["POSTGRESQL_CONFIG_SHARED_BUFERS"], "did you mean shared_buffers?")

	ok, _ := testRunner(t, map[string]string{"PGDATA": t.TempDir(), "POSTGRESQL_CONFIG_WORK_MEM": "8MB"})
	ok.bin = pg.Bin
	assert.NoError(t, ok.checkSettings(context.Background()))
}

// TestCheckSettingsSkippedWhenUnchanged: a restart whose settings are all,
// unchanged, in PGDATA's pgdock.conf does not run postgres -C (here there
// is no postgres to run); any change, a new or a removed setting runs it.
func TestCheckSettingsSkippedWhenUnchanged(t *testing.T) {
	pgdata := t.TempDir()
	env := map[string]string{"PGDATA": pgdata, "POSTGRESQL_WORK_MEM": "8MB", "POSTGRESQL_CONFIG_SEARCH_PATH": `"$user", it's`}
	r, log := testRunner(t, env)
	r.bin = pgbin.Bin{Postgres: "/nonexistent/postgres"}
	conf, err := render.Conf((&server{r: r}).renderInput())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, render.ConfName), conf, 0o600))

	assert.NoError(t, r.checkSettings(context.Background()), "unchanged: no check")
	assert.Empty(t, log.String(), "unchanged: no check")
	for _, change := range []map[string]string{
		{"POSTGRESQL_WORK_MEM": "9MB"},
		{"POSTGRESQL_CONFIG_SEARCH_PATH": "public"},
		{"POSTGRESQL_CONFIG_JIT": "off"},
		{"POSTGRESQL_WORK_MEM": ""},
	} {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range change {
			e[k] = v
		}
		r2, log2 := testRunner(t, e)
		r2.bin = r.bin
		assert.NoError(t, r2.checkSettings(context.Background()), "%v: a check that cannot run does not stop the start", change)
		if len(r2.cfg.Settings) == len(r.cfg.Settings)-1 { // a removed setting: nothing left to check against the server
			assert.Empty(t, log2.String(), "%v", change)
			continue
		}
		assert.Contains(t, log2.String(), "/nonexistent/postgres", "%v: the check ran (and could not)", change)
	}
}

// TestCheckSettingsSkipsExactlyCheckedValues: settings pgdock checks
// exactly as the server would (listen_addresses, log_statement,
// log_duration) and its default need no postgres -C, so a first boot with
// only those pays nothing for the check.
func TestCheckSettingsSkipsExactlyCheckedValues(t *testing.T) {
	r, log := testRunner(t, map[string]string{"PGDATA": t.TempDir(), "POSTGRESQL_LISTEN_ADDRESSES": "127.0.0.1", "POSTGRESQL_LOG_STATEMENT": "ddl", "POSTGRESQL_LOG_DURATION": "yes"})
	r.bin = pgbin.Bin{Postgres: "/nonexistent/postgres"}
	assert.NoError(t, r.checkSettings(context.Background()))
	assert.Empty(t, log.String(), "not asked")
	r, log = testRunner(t, map[string]string{"PGDATA": t.TempDir(), "POSTGRESQL_MAX_CONNECTIONS": "100"})
	r.bin = pgbin.Bin{Postgres: "/nonexistent/postgres"}
	assert.NoError(t, r.checkSettings(context.Background()))
	assert.Contains(t, log.String(), "/nonexistent/postgres", "max_connections has a server-side check hook: asked")
}

// TestCheckSettingsMissingPreloadLibrary: a library in
// shared_preload_libraries that is not installed would stop the server at
// start; the preflight names the variable and the library instead.
func TestCheckSettingsMissingPreloadLibrary(t *testing.T) {
	pg := testpg.Setup(t)
	for _, tc := range []struct {
		value string
		want  string // "" = accepted
	}{
		{"pg_stat_statements", ""},
		{"pg_stat_statements, auto_explain", ""},
		{"$libdir/auto_explain", ""},
		{`"auto_explain.so"`, ""},
		{"pg_stat_statements,no_such_ext", "no_such_ext is not installed in "},
		{"pgdock_nope_a,pgdock_nope_b", "pgdock_nope_a, pgdock_nope_b are not installed"},
	} {
		r, _ := testRunner(t, map[string]string{"PGDATA": t.TempDir(), "POSTGRESQL_CONFIG_SHARED_PRELOAD_LIBRARIES": tc.value})
		r.bin = pg.Bin
		err := r.checkSettings(context.Background())
		if tc.want == "" {
			assert.NoError(t, err, tc.value)
			continue
		}
		var ve *config.ValidationError
		require.ErrorAs(t, err, &ve, tc.value)
		require.Len(t, ve.Problems, 1)
		assert.Equal(t, "POSTGRESQL_CONFIG_SHARED_PRELOAD_LIBRARIES", ve.Problems[0].Var)
		assert.Contains(t, ve.Problems[0].Message, tc.want)
	}
}

// versionRunner is a runner whose server is PostgreSQL 15 in the Debian
// layout (the path answers; nothing is run) and whose PGDATA holds a
// cluster of major data (no PG_VERSION when data is "").
func versionRunner(t *testing.T, data string, env map[string]string) (*runner, string, *bytes.Buffer) {
	t.Helper()
	pgdata := t.TempDir()
	if data != "" {
		require.NoError(t, os.WriteFile(filepath.Join(pgdata, "PG_VERSION"), []byte(data+"\n"), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(pgdata, "postgresql.conf"), []byte("# the old cluster's\n"), 0o600))
	}
	e := map[string]string{"PGDATA": pgdata}
	for k, v := range env {
		e[k] = v
	}
	r, log := testRunner(t, e)
	r.o.Env = e
	r.bin = pgbin.Bin{Dir: filepath.Join(t.TempDir(), "usr/lib/postgresql/15/bin")}
	return r, pgdata, log
}

// snapshot lists a directory's entries with their sizes and mtimes.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %d %s", fi.Mode(), fi.Size(), fi.ModTime())
		return nil
	}))
	return out
}

// TestPreflightRefusesOtherMajor: a PGDATA of another major fails the
// preflight first, naming both versions and the way to upgrade, and leaves
// PGDATA as it was; PGDOCK_UPGRADE=true hands an older cluster to the
// upgrade (typed, for it to branch on) but never a newer one.
func TestPreflightRefusesOtherMajor(t *testing.T) {
	for _, tc := range []struct {
		name, data, upgrade string
		wantErr             []string
		wantFrom            bool
	}{
		{name: "no cluster yet", data: ""},
		{name: "same major", data: "15"},
		{name: "older", data: "13", wantErr: []string{"PostgreSQL 13 cluster", "runs PostgreSQL 15", "PGDOCK_UPGRADE=true", "pgdock/postgres:13"}},
		{name: "newer", data: "17", wantErr: []string{"PostgreSQL 17 cluster", "cannot be downgraded"}},
		{name: "older, upgrade false", data: "13", upgrade: "false", wantErr: []string{"PostgreSQL 13 cluster"}},
		{name: "older, upgrade true", data: "13", upgrade: "true", wantFrom: true},
		{name: "newer, upgrade true", data: "18", upgrade: "true", wantErr: []string{"cannot be downgraded"}},
		{name: "older, upgrade misspelt", data: "13", upgrade: "ja", wantErr: []string{"PostgreSQL 13 cluster", `PGDOCK_UPGRADE="ja"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			if tc.upgrade != "" {
				env["PGDOCK_UPGRADE"] = tc.upgrade
			}
			r, pgdata, _ := versionRunner(t, tc.data, env)
			before := snapshot(t, pgdata)
			from, err := r.checkDataVersion(context.Background())
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, s := range tc.wantErr {
					assert.Contains(t, err.Error(), s)
				}
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantFrom, from != nil)
			if from != nil {
				assert.Equal(t, pgversion.Major(13), from.Data)
				assert.Equal(t, pgversion.Major(15), from.Server)
			}

			// The whole preflight: refused before anything else, PGDATA untouched.
			_, perr := r.preflight()
			var me *pgversion.MismatchError
			if len(tc.wantErr) > 0 {
				require.Error(t, perr)
				assert.ErrorAs(t, perr, &me, "typed, for callers to branch on")
			}
			if tc.wantFrom {
				// Not refused: the upgrade takes it after prepare (upgrade.Run).
				assert.False(t, errors.As(perr, &me), "%v", perr)
			}
			assert.Equal(t, before, snapshot(t, pgdata), "PGDATA unchanged")
		})
	}
}

// TestValidateRefusesOtherMajor: `config validate` with the installed
// PostgreSQL (found as a start finds it) on a PGDATA whose PG_VERSION is
// another major exits 1 with the message, and changes nothing.
func TestValidateRefusesOtherMajor(t *testing.T) {
	bin, err := pgbin.Find()
	if err != nil {
		prereq.Missing(t, "no PostgreSQL installed (run `make deps`): "+err.Error())
	}
	server, err := pgversion.FromBinDir(context.Background(), bin.Dir)
	require.NoError(t, err)
	other := pgversion.Major(13)
	if server == other {
		other = 15
	}
	pgdata := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "PG_VERSION"), []byte(other.String()+"\n"), 0o600))
	before := snapshot(t, pgdata)
	var stdout, stderr bytes.Buffer
	code := Validate(Options{
		Env:    map[string]string{"PGDATA": pgdata, "PATH": os.Getenv("PATH"), "POSTGRES_PASSWORD": "x"},
		Stdout: &stdout, Stderr: &stderr,
	})
	assert.Equal(t, ExitError, code)
	out := stdout.String() + stderr.String()
	assert.Contains(t, out, "holds a PostgreSQL "+other.String()+" cluster")
	assert.Contains(t, out, "this image runs PostgreSQL "+server.String())
	assert.Equal(t, before, snapshot(t, pgdata))
}

// TestPreflightLayout18: the 18 layout with nothing mounted at the old
// PGDATA passes (this host has no mount there); the refusal itself is
// pgversion.CheckLayout's, tested there with mounts given.
func TestPreflightLayout18(t *testing.T) {
	if isMountPoint("/var/lib/postgresql/data") {
		t.Skip("this host has a mount at /var/lib/postgresql/data")
	}
	r, _, _ := versionRunner(t, "", nil)
	r.cfg.PGData = filepath.Join(t.TempDir(), "18", "docker")
	r.bin = pgbin.Bin{Dir: filepath.Join(t.TempDir(), "usr/lib/postgresql/18/bin")}
	from, err := r.checkDataVersion(context.Background())
	assert.NoError(t, err)
	assert.Nil(t, from)
}
