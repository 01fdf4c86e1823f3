package integration

// The pgbackrest plugin through the real entrypoint, with the real
// pgBackRest and a posix repository in a temporary directory: archiving,
// on-demand backups, restore on boot (latest and point in time), once.

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// pgbackrestPlugin is plugins/pgbackrest, built into a plugin directory of its own.
var pgbackrestPlugin = &pluginBuild{name: "pgbackrest", module: "../../plugins/pgbackrest", pkg: "./cmd/pgdock-plugin-pgbackrest"}

const brPassword = "backup-test-pw"

// withPgbackrest enables the plugin with a posix repository of the site's
// own (owned by the server's user) and returns the repository path.
func (s *site) withPgbackrest(kv ...string) string {
	s.t.Helper()
	testpg.NeedTool(s.t, "pgbackrest", "pgbackrest")
	repo := filepath.Join(s.base, "repo")
	require.NoError(s.t, os.MkdirAll(repo, 0o750))
	s.pg.Chown(s.t, repo)
	s.set("PGDOCK_PLUGIN_DIR", pgbackrestPlugin.Dir(s.t), "PGBACKREST_ENABLE", "true",
		"PGBACKREST_REPO_PATH", repo, "PGBACKREST_STANZA", "it", "POSTGRES_PASSWORD", brPassword,
		// pgdock's own variables must never reach pgBackRest's option parser:
		// with this one passed on, pgBackRest would fail ("invalid option").
		"PGBACKREST_BACKUP_START_FAST", "true")
	s.set(kv...)
	return repo
}

// exec runs statements over TCP as the superuser.
func (s *site) exec(sql ...string) {
	s.t.Helper()
	c, err := s.connect("postgres", brPassword, "postgres")
	require.NoError(s.t, err)
	defer c.Close(context.Background())
	for _, q := range sql {
		_, err := c.Exec(context.Background(), q)
		require.NoError(s.t, err, q)
	}
}

func (s *site) count() int {
	s.t.Helper()
	n, err := strconv.Atoi(s.query("postgres", brPassword, "postgres", "SELECT count(*)::text FROM t"))
	require.NoError(s.t, err)
	return n
}

// switchAndArchive closes the current WAL segment and waits until it is in
// the repository.
func (s *site) switchAndArchive() {
	s.t.Helper()
	wal := s.query("postgres", brPassword, "postgres", "SELECT pg_walfile_name(pg_switch_wal())")
	require.Eventually(s.t, func() bool {
		last := s.query("postgres", brPassword, "postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
		return last >= wal
	}, 60*time.Second, 200*time.Millisecond, "WAL %s was not archived", wal)
}

// cli runs `pgdock-entrypoint <args>` with the site's environment, as the
// test's user (root in CI, as `docker exec` would).
func (s *site) cli(args ...string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(binary, args...)
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), string(out)
}

func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	require.Equal(p.t, 0, p.wait(60*time.Second))
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func wipe(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
}

// TestPgbackrestFullCycle: enable, rows, backup, rows, a noted time, rows;
// lose PGDATA; restore the latest → every row; restore to the noted time →
// exactly the rows before it; a restart with PGBACKREST_RESTORE still set
// restores nothing and keeps the data.
func TestPgbackrestFullCycle(t *testing.T) {
	const passphrase = "cipher-pass-NEVER-LOGGED"
	s := newSite(t)
	s.withPgbackrest("PGBACKREST_REPO_CIPHER_TYPE", "aes-256-cbc", "PGBACKREST_REPO_CIPHER_PASS", passphrase)
	outputs := []*proc{}
	defer func() {
		for _, p := range outputs {
			assert.NotContains(t, p.out.String(), passphrase, "the passphrase reached the container log")
		}
	}()
	p := s.start()
	outputs = append(outputs, p)
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
	conf := filepath.Join(s.State, "files", "pgbackrest", "pgbackrest.conf")
	fi, err := os.Stat(conf)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	assert.NotContains(t, string(must1(os.ReadFile(filepath.Join(s.PGData, "postgresql.auto.conf")))), passphrase)
	s.exec("CREATE TABLE t (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())",
		"INSERT INTO t (id) SELECT generate_series(1, 100)")

	code, out := s.cli("backup", "--type", "full")
	require.Equal(t, 0, code, out)
	p.waitFor("job finished", 1, 10*time.Second)

	code, out = s.cli("backup", "info", "--format", "json")
	require.Equal(t, 0, code, out)
	var info []struct {
		Name   string `json:"name"`
		Backup []struct {
			Type string `json:"type"`
		} `json:"backup"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &info), out)
	require.Len(t, info, 1)
	assert.Equal(t, "it", info[0].Name)
	require.Len(t, info[0].Backup, 1)
	assert.Equal(t, "full", info[0].Backup[0].Type)
	code, out = s.cli("backup", "info")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "stanza: it")

	s.exec("INSERT INTO t (id) SELECT generate_series(101, 200)")
	time.Sleep(1100 * time.Millisecond)
	noted := s.query("postgres", brPassword, "postgres", "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	time.Sleep(1100 * time.Millisecond)
	s.exec("INSERT INTO t (id) SELECT generate_series(201, 300)")
	s.switchAndArchive()
	// the stanza exists before the first WAL segment is archived (the
	// temporary server's stop completes it): no archive-push error
	assert.NotContains(t, p.out.String(), "ERROR: [103]")
	assert.NotContains(t, p.out.String(), "archive command failed")
	p.stop()

	// lose everything, restore the latest
	wipe(t, s.PGData)
	s.set("PGBACKREST_RESTORE", "true")
	p = s.start()
	outputs = append(outputs, p)
	p.ready()
	assert.Contains(t, p.out.String(), "restoring instead of initdb")
	assert.Equal(t, 300, s.count())
	assert.FileExists(t, filepath.Join(s.PGData, "pgdock_bootstrap_provided.json"))
	p.stop()

	// lose it again, restore to the noted time
	wipe(t, s.PGData)
	s.set("PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", noted)
	p = s.start()
	outputs = append(outputs, p)
	p.ready()
	assert.Equal(t, 200, s.count(), "restore to %s", noted)
	p.stop()

	// a restart with the variables still set restores nothing
	p = s.start()
	p.ready()
	assert.NotContains(t, p.out.String(), "restoring instead of initdb")
	assert.Equal(t, 200, s.count())
	p.stop()
}

// TestPgbackrestBadInput: clear errors naming the variable, and nothing on
// disk changed.
func TestPgbackrestBadInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		kv   []string
		want []string
	}{
		{"unknown repository type", []string{"PGBACKREST_REPO_TYPE", "ftp"}, []string{"PGBACKREST_REPO_TYPE", "posix, filesystem, s3, gcs, azure, sftp"}},
		{"malformed cron", []string{"PGBACKREST_SCHEDULE_FULL", "0 25 * * *"}, []string{"PGBACKREST_SCHEDULE_FULL", "5 cron fields"}},
		{"s3 without bucket", []string{"PGBACKREST_REPO_TYPE", "s3", "PGBACKREST_REPO_S3_ENDPOINT", "127.0.0.1", "PGBACKREST_REPO_S3_REGION", "x",
			"PGBACKREST_REPO_S3_KEY", "k", "PGBACKREST_REPO_S3_KEY_SECRET", "NOT-IN-LOGS"}, []string{"PGBACKREST_REPO_S3_BUCKET: is required with PGBACKREST_REPO_TYPE=s3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t)
			s.withPgbackrest(tt.kv...)
			before := snapshot(t, s.base)
			code, out := s.run()
			assert.Equal(t, 1, code, out)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			assert.NotContains(t, out, "NOT-IN-LOGS")
			// the host prepares its (empty) directories before the plugins
			// validate; nothing is initialised and the repository is untouched
			entries, _ := os.ReadDir(s.PGData)
			assert.Empty(t, entries, "PGDATA")
			assert.Equal(t, before[filepath.Join(s.base, "repo")], snapshot(t, s.base)[filepath.Join(s.base, "repo")])
		})
	}
	t.Run("restore into a live PGDATA", func(t *testing.T) {
		s := newSite(t)
		s.withPgbackrest()
		p := s.start()
		p.ready()
		p.stop()
		s.set("PGBACKREST_RESTORE", "true")
		before := snapshot(t, s.PGData)
		code, out := s.run()
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "PGBACKREST_RESTORE")
		assert.Contains(t, out, "already holds a cluster that no pgbackrest restore created")
		assert.Equal(t, before, snapshot(t, s.PGData), "PGDATA changed")
	})
}

// TestPgbackrestArchiveFailure: a repository the server cannot write to
// shows in the plugin's health within one archive attempt, as degraded:
// readiness still passes (PostgreSQL serves) and says why; --strict fails.
func TestPgbackrestArchiveFailure(t *testing.T) {
	testpg.NeedRoot(t, "makes the repository unwritable for the server's user")
	s := newSite(t)
	repo := s.withPgbackrest()
	p := s.start()
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
	s.exec("CREATE TABLE t (id int)")
	s.switchAndArchive()
	code, line := s.health("readiness", "--format", "json")
	require.Equal(t, 0, code, line)

	archive := filepath.Join(repo, "archive", "it")
	require.NoError(t, filepath.Walk(archive, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			err = os.Chmod(path, 0o555)
		}
		return err
	}))
	failures := strings.Count(p.out.String(), "archive command failed")
	s.exec("INSERT INTO t VALUES (1)")
	s.query("postgres", brPassword, "postgres", "SELECT pg_walfile_name(pg_switch_wal())")
	p.waitFor("archive command failed", failures+1, 30*time.Second)
	// the plugin reuses a reading of pg_stat_archiver for up to 1 s
	require.Eventually(t, func() bool {
		code, line = s.health("readiness", "--format", "json")
		return strings.Contains(line, "WAL archiving is failing")
	}, 10*time.Second, 200*time.Millisecond, line)
	assert.Equal(t, 0, code, line)
	assert.Contains(t, line, `"degraded":true`)
	assert.Contains(t, line, "WAL archiving is failing")
	code, line = s.health("readiness", "--strict")
	assert.Equal(t, 1, code, line)
	assert.True(t, strings.HasPrefix(line, "FAIL readiness: degraded (--strict): "), line)
	assert.Contains(t, line, "WAL archiving is failing")

	// writable again: healthy after the next successful attempt
	require.NoError(t, filepath.Walk(archive, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			err = os.Chmod(path, 0o750)
		}
		return err
	}))
	s.query("postgres", brPassword, "postgres", "SELECT pg_walfile_name(pg_switch_wal())") // wakes the archiver
	require.Eventually(t, func() bool {
		code, line = s.health("readiness", "--strict", "--format", "json")
		return code == 0
	}, 90*time.Second, time.Second, line)
	assert.NotContains(t, line, "degraded")
	p.stop()
}

// TestPgbackrestJobStoppedAtShutdown: a backup running when the container
// stops is stopped inside TIMEOUT, and the on-demand caller is told it failed.
func TestPgbackrestJobStoppedAtShutdown(t *testing.T) {
	s := newSite(t)
	repo := s.withPgbackrest("TIMEOUT", "10", "PGBACKREST_BACKUP_START_FAST", "false")
	// the shell container's names, and a passphrase from a file
	pass := filepath.Join(s.base, "cipher-pass")
	require.NoError(t, os.WriteFile(pass, []byte("from-a-file\n"), 0o600))
	s.unset("PGBACKREST_ENABLE", "PGBACKREST_REPO_PATH").set("BACKUP_ENABLED", "true", "PGBACKREST_REPO1_PATH", repo,
		"PGBACKREST_REPO_CIPHER_TYPE", "aes-256-cbc", "PGBACKREST_REPO_CIPHER_PASS_FILE", pass)
	p := s.start()
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
	// a spread checkpoint keeps the backup waiting long enough
	s.exec("CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g")
	type result struct {
		code int
		out  string
	}
	done := make(chan result, 1)
	go func() {
		cmd := exec.Command(binary, "backup", "--type", "full")
		for k, v := range s.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, _ := cmd.CombinedOutput()
		done <- result{cmd.ProcessState.ExitCode(), string(out)}
	}()
	p.waitFor("job started", 1, 30*time.Second)
	began := time.Now()
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
	assert.Less(t, time.Since(began), 10*time.Second)
	assert.Contains(t, p.out.String(), "stopped at shutdown")
	select {
	case r := <-done:
		assert.NotEqual(t, 0, r.code, r.out)
	case <-time.After(10 * time.Second):
		t.Fatal("pgdock-entrypoint backup still waiting after the entrypoint stopped")
	}
	assert.Empty(t, processesNamed("pgbackrest", s.State), "a pgbackrest process survived")
	conf, err := os.ReadFile(filepath.Join(s.State, "files", "pgbackrest", "pgbackrest.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(conf), "repo1-path="+repo+"\n")
	assert.Contains(t, string(conf), "repo1-cipher-pass=from-a-file\n")
}

// TestPgbackrestSchedule: a per-minute incremental schedule takes a backup
// within two minutes, and with no full backup yet it is a full one.
// Slow (up to two minutes): runs when PGDOCK_TEST_SLOW=1 or when named with -run.
func TestPgbackrestSchedule(t *testing.T) {
	if os.Getenv("PGDOCK_TEST_SLOW") == "" && !strings.Contains(flagRun(), "TestPgbackrestSchedule") {
		t.Skip("slow: set PGDOCK_TEST_SLOW=1 or -run TestPgbackrestSchedule")
	}
	s := newSite(t)
	s.withPgbackrest("PGBACKREST_SCHEDULE_INCR", "* * * * *")
	p := s.start()
	p.ready()
	p.waitFor("job scheduled", 1, 10*time.Second)
	p.waitFor("job finished", 1, 130*time.Second)
	code, out := s.cli("backup", "info", "--format", "json")
	require.Equal(t, 0, code, out)
	var info []struct {
		Backup []struct {
			Type string `json:"type"`
		} `json:"backup"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &info), out)
	require.NotEmpty(t, info)
	require.NotEmpty(t, info[0].Backup)
	assert.Equal(t, "full", info[0].Backup[0].Type, "an incr with no full backup yet is a full one")
	assert.Contains(t, p.out.String(), "incr backup has been changed to full")
	p.stop()
}

func flagRun() string {
	if f := flag.Lookup("test.run"); f != nil {
		return f.Value.String()
	}
	return ""
}

// patroniAndPgbackrestDir is a plugin directory with both plugins.
func patroniAndPgbackrestDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(pluginDir), "patroni-pgbackrest-plugins")
	if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); err == nil {
		return dir
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, b := range []*pluginBuild{patroniPlugin, pgbackrestPlugin} {
		src := filepath.Join(b.Dir(t), "pgdock-plugin-"+b.name)
		data, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "pgdock-plugin-"+b.name), data, 0o755))
	}
	sum := exec.Command("sh", "-c", "sha256sum pgdock-plugin-* > SHA256SUMS")
	sum.Dir = dir
	out, err := sum.CombinedOutput()
	require.NoError(t, err, string(out))
	return dir
}

// TestPgbackrestWithPatroni: in Patroni mode the archiving settings reach
// Patroni's parameters, the stanza is created on the leader, WAL is
// archived and an on-demand backup runs through the entrypoint.
func TestPgbackrestWithPatroni(t *testing.T) {
	testpg.Setup(t)
	testpg.NeedRoot(t, "the entrypoint drops to the postgres user that runs Patroni")
	testpg.NeedTool(t, "patroni", "patroni")
	etcd := startEtcd(t)
	m := newMembers(t, 1, etcd)[0]
	m.withPgbackrest("POSTGRES_PASSWORD", patroniSuperPassword)
	m.set("PGDOCK_PLUGIN_DIR", patroniAndPgbackrestDir(t))
	m.launch()
	waitLeader(t, m, 120*time.Second) // Patroni's leader, and the host ready (its role known)
	m.p.waitFor("stanza ready", 1, 60*time.Second)

	yml, err := os.ReadFile(filepath.Join(m.State, "files", "patroni", "patroni.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(yml), "archive_command: /usr/bin/env -i /usr/bin/pgbackrest --config="+filepath.Join(m.State, "files", "pgbackrest", "pgbackrest.conf"))
	assert.Contains(t, string(yml), "archive_mode: \"on\"")

	c, err := m.connect("postgres", patroniSuperPassword, "postgres")
	require.NoError(t, err)
	defer c.Close(context.Background())
	var wal string
	require.NoError(t, c.QueryRow(context.Background(), "SELECT pg_walfile_name(pg_switch_wal())").Scan(&wal))
	require.Eventually(t, func() bool {
		var last string
		_ = c.QueryRow(context.Background(), "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").Scan(&last)
		return last >= wal
	}, 60*time.Second, 200*time.Millisecond, "WAL %s not archived", wal)

	code, out := m.cli("backup", "--type", "incr")
	require.Equal(t, 0, code, out)
	assert.Contains(t, m.p.out.String(), "incr backup has been changed to full")
	code, out = m.cli("backup", "info")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "full backup:")
}

// TestPgbackrestRestoreForce: PGBACKREST_RESTORE_FORCE=true moves a live
// cluster aside (renamed, not deleted) and restores; a restart with the
// variables still set restores nothing again.
func TestPgbackrestRestoreForce(t *testing.T) {
	s := newSite(t)
	s.withPgbackrest()
	s.pg.Chown(t, s.base) // PGDATA's parent: the server user renames PGDATA in it
	p := s.start()
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
	s.exec("CREATE TABLE t (id int)", "INSERT INTO t SELECT generate_series(1, 100)")
	code, out := s.cli("backup", "--type", "full")
	require.Equal(t, 0, code, out)
	s.switchAndArchive()
	p.stop()
	sentinel := filepath.Join(s.PGData, "old-cluster-sentinel")
	require.NoError(t, os.WriteFile(sentinel, []byte("old\n"), 0o600))

	s.set("PGBACKREST_RESTORE", "true", "PGBACKREST_RESTORE_FORCE", "true")
	p = s.start()
	p.ready()
	assert.Contains(t, p.out.String(), "the existing cluster was moved aside")
	assert.Equal(t, 100, s.count())
	aside, err := filepath.Glob(s.PGData + ".pre-restore-*")
	require.NoError(t, err)
	require.Len(t, aside, 1)
	assert.FileExists(t, filepath.Join(aside[0], "old-cluster-sentinel"), "the old cluster was not kept")
	assert.FileExists(t, filepath.Join(aside[0], "PG_VERSION"))
	assert.NoFileExists(t, filepath.Join(s.PGData, "old-cluster-sentinel"))
	p.stop()

	p = s.start()
	p.ready()
	assert.NotContains(t, p.out.String(), "restoring instead of initdb")
	assert.Equal(t, 100, s.count())
	aside, _ = filepath.Glob(s.PGData + ".pre-restore-*")
	assert.Len(t, aside, 1)
	p.stop()
}
