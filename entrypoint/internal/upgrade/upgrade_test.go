package upgrade

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Config
		err  string
	}{
		{"defaults", nil, Defaults(), ""},
		{"requested", map[string]string{EnvUpgrade: "true"}, func() Config { c := Defaults(); c.Requested = true; return c }(), ""},
		{"link", map[string]string{EnvUpgrade: "1", EnvMode: "LINK"}, func() Config { c := Defaults(); c.Requested, c.Mode = true, Link; return c }(), ""},
		{"bad bool", map[string]string{EnvUpgrade: "maybe"}, Config{}, EnvUpgrade},
		{"bad mode", map[string]string{EnvMode: "move"}, Config{}, "must be copy, link or clone"},
		{"relative bindir", map[string]string{EnvOldBinDir: "pg13/bin"}, Config{}, "absolute"},
		{"bad jobs", map[string]string{EnvJobs: "0"}, Config{}, EnvJobs},
		{"jobs not a number", map[string]string{EnvJobs: "2x"}, Config{}, EnvJobs},
		{"jobs", map[string]string{EnvJobs: "3"}, func() Config { c := Defaults(); c.Jobs = 3; return c }(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromEnv(tc.env)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
		})
	}
}

func TestRollbackable(t *testing.T) {
	for _, tc := range []struct {
		step Step
		mode Mode
		want bool
	}{
		{StepInitdb, Link, true}, {StepCheck, Link, true}, {StepUpgrade, Link, true},
		{StepVerify, Link, false}, {StepVerify, Copy, true}, {StepVerify, Clone, true},
		{StepSwapOut, Copy, false}, {StepSwapIn, Copy, false}, {StepFinish, Copy, false},
	} {
		assert.Equal(t, tc.want, State{Step: tc.step, Mode: tc.mode}.Rollbackable(), "%s %s", tc.step, tc.mode)
	}
}

func TestParseControlDataAndInitdbArgs(t *testing.T) {
	f := parseControlData("pg_control version number:            1300\nDatabase cluster state:               shut down\n" +
		"Bytes per WAL segment:                16777216\nData page checksum version:           1\n")
	assert.Equal(t, "1", f["Data page checksum version"])
	assert.Equal(t, "shut down", f["Database cluster state"])
	p := &plan{to: 18, superuser: "app", encoding: "UTF8", collate: "en_US.utf8", ctype: "en_US.utf8", walSegMB: 64}
	a := initdbArgs(p, "/d/new")
	assert.Contains(t, a, "--no-data-checksums") // 18 has them on by default; the old cluster has none
	assert.Contains(t, a, "--wal-segsize=64")
	assert.Contains(t, a, "--username=app")
	p.to, p.checksums, p.walSegMB, p.provider, p.locale = 17, true, 16, "i", "und"
	a = initdbArgs(p, "/d/new")
	assert.Contains(t, a, "--data-checksums")
	assert.Contains(t, a, "--icu-locale=und")
	assert.NotContains(t, a, "--no-data-checksums")
	for _, x := range a {
		assert.NotContains(t, x, "wal-segsize")
	}
}

func TestPgctlOptionsQuote(t *testing.T) {
	o := &Options{SocketDir: "/run/it's"}
	s := o.pgctlOptions("/run/it's/hba.conf")
	assert.Contains(t, s, `-c unix_socket_directories='/run/it'\''s'`)
	assert.Contains(t, s, `-c listen_addresses=''`)
	assert.Contains(t, s, `-c archive_mode='off'`)
}

// fakeVolume lays out an old cluster (13) in PGDATA and a new one (15) in
// the staging directory, with the state at step.
func fakeVolume(t *testing.T, st State) (pgdata string) {
	t.Helper()
	pgdata = filepath.Join(t.TempDir(), "data")
	p := pathsOf(pgdata)
	write := func(path, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	for _, f := range []string{"base/1/1259", "global/pg_control", "pg_wal/000000010000000000000001", "postgresql.conf"} {
		write(filepath.Join(pgdata, f), "old "+f)
		write(filepath.Join(p.newData(), f), "new "+f)
	}
	write(filepath.Join(pgdata, "PG_VERSION"), "13\n")
	write(filepath.Join(p.newData(), "PG_VERSION"), "15\n")
	require.NoError(t, os.MkdirAll(p.work(), 0o700))
	require.NoError(t, writeState(pgdata, st))
	return pgdata
}

func testOptions(t *testing.T, pgdata string, major string) Options {
	r, stop := reaper.Background(nil)
	t.Cleanup(stop)
	return Options{PGData: pgdata, Bin: pgbin.Bin{Dir: "/nonexistent/lib/postgresql/" + major + "/bin"},
		Reaper: r, Log: zap.NewNop(), SocketDir: t.TempDir(), StopBudget: time.Second,
		Now: func() time.Time { return time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC) }}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// assertUpgraded: PGDATA holds the new cluster, the old one is complete in
// oldDir, and no staging directory is left.
func assertUpgraded(t *testing.T, pgdata, oldDir string) {
	t.Helper()
	assert.Equal(t, "15\n", read(t, filepath.Join(pgdata, "PG_VERSION")))
	assert.Equal(t, "new global/pg_control", read(t, filepath.Join(pgdata, "global/pg_control")))
	assert.Equal(t, "13\n", read(t, filepath.Join(oldDir, "PG_VERSION")))
	for _, f := range []string{"base/1/1259", "global/pg_control", "pg_wal/000000010000000000000001", "postgresql.conf"} {
		assert.Equal(t, "old "+f, read(t, filepath.Join(oldDir, f)))
		assert.Equal(t, "new "+f, read(t, filepath.Join(pgdata, f)))
	}
	assert.NoDirExists(t, filepath.Join(pgdata, DirName))
	assert.NoDirExists(t, filepath.Join(pgdata, trashName))
	assert.False(t, Interrupted(pgdata))
}

// TestResumeSwap: a crash at any point of the swap is finished by the next
// start of the new image, with or without PGDOCK_UPGRADE.
func TestResumeSwap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  Step
		setup func(t *testing.T, pgdata string)
	}{
		{"before the first move", StepSwapOut, nil},
		{"half the old entries moved", StepSwapOut, func(t *testing.T, pgdata string) {
			p := pathsOf(pgdata)
			require.NoError(t, os.MkdirAll(p.oldData(), 0o700))
			require.NoError(t, os.Rename(filepath.Join(pgdata, "base"), filepath.Join(p.oldData(), "base")))
		}},
		{"old moved, state not yet written", StepSwapOut, func(t *testing.T, pgdata string) {
			o := testOptions(t, pgdata, "15")
			require.NoError(t, o.swapOut())
		}},
		{"half the new entries moved up", StepSwapIn, func(t *testing.T, pgdata string) {
			o := testOptions(t, pgdata, "15")
			require.NoError(t, o.swapOut())
			p := pathsOf(pgdata)
			require.NoError(t, os.Rename(filepath.Join(p.newData(), "global"), filepath.Join(pgdata, "global")))
		}},
		{"new PG_VERSION in place, state not yet written", StepSwapIn, func(t *testing.T, pgdata string) {
			o := testOptions(t, pgdata, "15")
			require.NoError(t, o.swapOut())
			require.NoError(t, o.swapIn())
		}},
		{"finish", StepFinish, func(t *testing.T, pgdata string) {
			o := testOptions(t, pgdata, "15")
			require.NoError(t, o.swapOut())
			require.NoError(t, o.swapIn())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldDir := filepath.Join(t.TempDir(), "kept")
			pgdata := fakeVolume(t, State{Step: tc.step, From: 13, To: 15, Mode: Link, OldDir: oldDir})
			if tc.setup != nil {
				tc.setup(t, pgdata)
			}
			// The old image refuses: the swap cannot be undone.
			_, err := Run(context.Background(), testOptions(t, pgdata, "13"))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "start the pgdock/postgres:15 image")
			assert.True(t, Interrupted(pgdata))
			// The new image finishes it, without being asked to upgrade.
			res, err := Run(context.Background(), testOptions(t, pgdata, "15"))
			require.NoError(t, err)
			assert.True(t, res.Upgraded)
			assert.Equal(t, oldDir, res.OldDir)
			assertUpgraded(t, pgdata, oldDir)
		})
	}
}

// TestRollback: before the point of no return, the old image rolls back
// and starts; the new image without PGDOCK_UPGRADE rolls back and refuses.
func TestRollback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		st       State
		image    string
		linkDone bool // pg_upgrade --link renamed pg_control
		err      string
	}{
		{"old image after a crash in pg_upgrade --link", State{Step: StepUpgrade, From: 13, To: 15, Mode: Link}, "13", true, ""},
		{"old image after a crash in initdb", State{Step: StepInitdb, From: 13, To: 15, Mode: Copy}, "13", false, ""},
		{"old image while a copy was verified", State{Step: StepVerify, From: 13, To: 15, Mode: Copy}, "13", false, ""},
		{"new image, upgrade no longer asked for", State{Step: StepCheck, From: 13, To: 15, Mode: Copy}, "15", false, "was rolled back"},
		{"empty staging directory", State{}, "15", false, ""},
		{"old image, link mode verified", State{Step: StepVerify, From: 13, To: 15, Mode: Link}, "13", true, "can no longer be rolled back"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pgdata := fakeVolume(t, tc.st)
			if tc.st.Step == "" {
				require.NoError(t, os.Remove(pathsOf(pgdata).state()))
			}
			ctl := filepath.Join(pgdata, "global", "pg_control")
			if tc.linkDone {
				require.NoError(t, os.Rename(ctl, ctl+".old"))
			}
			res, err := Run(context.Background(), testOptions(t, pgdata, tc.image))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
			} else {
				require.NoError(t, err)
			}
			if tc.err == "can no longer be rolled back" {
				assert.True(t, Interrupted(pgdata), "nothing is changed")
				assert.NoFileExists(t, ctl)
				return
			}
			assert.True(t, res.RolledBack)
			assert.False(t, Interrupted(pgdata))
			assert.Equal(t, "13\n", read(t, filepath.Join(pgdata, "PG_VERSION")))
			assert.Equal(t, "old global/pg_control", read(t, ctl))
			assert.NoDirExists(t, filepath.Join(pgdata, trashName))
		})
	}
}

func TestRollbackKeepsOldCluster(t *testing.T) {
	pgdata := fakeVolume(t, State{Step: StepCheck, From: 13, To: 15, Mode: Copy})
	require.NoError(t, os.MkdirAll(pathsOf(pgdata).oldData(), 0o700))
	o := testOptions(t, pgdata, "13")
	err := o.rollback(State{Step: StepCheck, Mode: Copy})
	require.Error(t, err)
	assert.DirExists(t, pathsOf(pgdata).oldData())
}

func TestNothingToDo(t *testing.T) {
	pgdata := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.MkdirAll(pgdata, 0o700))
	o := testOptions(t, pgdata, "15")
	res, err := Run(context.Background(), o) // not asked, nothing interrupted
	require.NoError(t, err)
	assert.Equal(t, Result{}, res)
	o.Config.Requested = true
	res, err = Run(context.Background(), o) // asked, no cluster yet
	require.NoError(t, err)
	assert.Equal(t, Result{}, res)
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "PG_VERSION"), []byte("15\n"), 0o600))
	res, err = Run(context.Background(), o) // asked again after the upgrade: runs once
	require.NoError(t, err)
	assert.Equal(t, Result{}, res)
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "PG_VERSION"), []byte("17\n"), 0o600))
	_, err = Run(context.Background(), o)
	require.ErrorContains(t, err, "cannot be downgraded")
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "PG_VERSION"), []byte("13\n"), 0o600))
	_, err = Run(context.Background(), o)
	require.ErrorContains(t, err, "pgdock/postgres-upgrade:13-to-15")
	assert.False(t, Interrupted(pgdata), "a refused upgrade changes nothing")
}

func TestMissingExtensions(t *testing.T) {
	share := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(share, "extension"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(share, "extension", "hstore.control"), nil, 0o644))
	p := &plan{to: 15, newShare: share, exts: []extension{{"app", "hstore", "1.7"}, {"app", "postgis", "3.1.1"}, {"other", "postgis", "3.1.1"}}}
	err := missingExtensions(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `extension postgis, installed in database "app" (version 3.1.1), "other" (version 3.1.1)`)
	assert.NotContains(t, err.Error(), "hstore")
	p.exts = p.exts[:1]
	assert.NoError(t, missingExtensions(p))
}

func TestCopyConfig(t *testing.T) {
	old, neu := t.TempDir(), t.TempDir()
	for name, content := range map[string]string{
		"postgresql.conf": "include_dir 'conf.d'\n", "pg_hba.conf": "local all all peer\n", "PG_VERSION": "13\n",
		"conf.d/10-app.conf": "work_mem = 8MB\n", "base/1/1259": "data", "pg_log/x.conf": "y", "pg_log/postgresql.log": "log",
	} {
		require.NoError(t, os.MkdirAll(filepath.Join(old, filepath.Dir(name)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(old, name), []byte(content), 0o640))
	}
	require.NoError(t, copyConfig(old, neu))
	assert.Equal(t, "include_dir 'conf.d'\n", read(t, filepath.Join(neu, "postgresql.conf")))
	assert.Equal(t, "local all all peer\n", read(t, filepath.Join(neu, "pg_hba.conf")))
	assert.Equal(t, "work_mem = 8MB\n", read(t, filepath.Join(neu, "conf.d/10-app.conf")))
	fi, err := os.Stat(filepath.Join(neu, "pg_hba.conf"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	for _, n := range []string{"PG_VERSION", "base", "pg_log"} {
		assert.NoFileExists(t, filepath.Join(neu, n))
		assert.NoDirExists(t, filepath.Join(neu, n))
	}
}
