package integration

// The pgbackrest plugin through the real entrypoint, with the real
// pgBackRest and a posix repository in a temporary directory: archiving,
// on-demand backups, restore on boot (latest and point in time), once.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

func wipe(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, os.RemoveAll(dir))
}

// TestPgbackrestFullCycle: enable, rows, backup, rows, a noted time, rows;
// lose PGDATA; restore the latest → every row; restore to the noted time →
// exactly the rows before it; a restart with PGBACKREST_RESTORE still set
// restores nothing and keeps the data.
func TestPgbackrestFullCycle(t *testing.T) {
	s := newSite(t)
	s.withPgbackrest()
	p := s.start()
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
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
	p.stop()

	// lose everything, restore the latest
	wipe(t, s.PGData)
	s.set("PGBACKREST_RESTORE", "true")
	p = s.start()
	p.ready()
	assert.Contains(t, p.out.String(), "restoring instead of initdb")
	assert.Equal(t, 300, s.count())
	assert.FileExists(t, filepath.Join(s.PGData, "pgdock_bootstrap_provided.json"))
	p.stop()

	// lose it again, restore to the noted time
	wipe(t, s.PGData)
	s.set("PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", noted)
	p = s.start()
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
