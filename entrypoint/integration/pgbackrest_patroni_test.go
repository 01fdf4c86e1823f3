package integration

// pgBackRest with Patroni through the real entrypoint: Patroni, etcd,
// pgBackRest and PostgreSQL from Debian, a posix repository in a temporary
// directory shared by every member (as a shared volume or an object store
// would be).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// brMember makes a member with the patroni and pgbackrest plugins on the
// shared repository repo (created by the first member when empty).
func brMember(t *testing.T, etcd, scope, name, repo string, kv ...string) *member {
	t.Helper()
	m := newMembers(t, 1, etcd)[0]
	m.name = name
	own := m.withPgbackrest()
	if repo != "" {
		require.NoError(t, os.RemoveAll(own))
		own = repo
	}
	m.set("PGBACKREST_REPO_PATH", own, "POSTGRES_PASSWORD", patroniSuperPassword, "PGDOCK_PLUGIN_DIR", patroniAndPgbackrestDir(t),
		"PATRONI_SCOPE", scope, "PATRONI_NAME", name)
	m.set(kv...)
	return m
}

func (m *member) sql(db string, stmts ...string) {
	m.t.Helper()
	c, err := m.connect("postgres", patroniSuperPassword, db)
	require.NoError(m.t, err)
	defer c.Close(context.Background())
	for _, q := range stmts {
		_, err := c.Exec(context.Background(), q)
		require.NoError(m.t, err, q)
	}
}

func (m *member) rows() int {
	m.t.Helper()
	n, err := strconv.Atoi(m.query("postgres", patroniSuperPassword, "appdb", "SELECT count(*)::text FROM t"))
	require.NoError(m.t, err)
	return n
}

// archiveNow closes the current WAL segment on the member and waits until
// PostgreSQL reports it archived; it returns the segment's name.
func (m *member) archiveNow() string {
	m.t.Helper()
	wal := m.query("postgres", patroniSuperPassword, "postgres", "SELECT pg_walfile_name(pg_switch_wal())")
	pollUntil(m.t, m.name+": WAL "+wal+" archived", 60*time.Second, func() error {
		last := m.query("postgres", patroniSuperPassword, "postgres", "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
		if last < wal {
			return fmt.Errorf("last archived %q", last)
		}
		return nil
	})
	return wal
}

func waitLeader(t *testing.T, m *member, d time.Duration) {
	t.Helper()
	pollUntil(t, m.name+" leader", d, func() error {
		if m.p.exited() {
			t.Fatalf("entrypoint %s exited with %d:\n%s", m.name, m.p.code, m.p.out.String())
		}
		l, err := leaderOf([]*member{m})
		if err != nil {
			return err
		}
		_ = l
		// the host's readiness too (the post-bootstrap callback is done)
		if !strings.Contains(m.p.out.String(), "PostgreSQL is ready") {
			return fmt.Errorf("not ready yet")
		}
		return nil
	})
}

// TestPgbackrestPatroni: a one-node Patroni cluster with pgBackRest, rows,
// a full backup; a second member is created by pgBackRest (not
// pg_basebackup), streams and has the rows; the leader stops, the other
// member becomes leader, creates/uses the stanza and archives on its
// timeline. Then a new cluster (new scope, empty data directory) restores
// the repository on boot through Patroni's bootstrap method: every row,
// no POSTGRES_DB and no init script; restarted with PGBACKREST_RESTORE
// still set it restores nothing. Last, a point-in-time restore gives
// exactly the rows before the noted time.
func TestPgbackrestPatroni(t *testing.T) {
	testpg.Setup(t)
	testpg.NeedRoot(t, "the entrypoint drops to the postgres user that runs Patroni")
	testpg.NeedTool(t, "patroni", "patroni")
	testpg.NeedTool(t, "pgbackrest", "pgbackrest")
	etcd := startEtcd(t)
	scope := "pgbr-" + strconv.Itoa(os.Getpid())

	// --- first cluster, first member
	m1 := brMember(t, etcd, scope, "node1", "")
	repo := m1.env["PGBACKREST_REPO_PATH"]
	m1.launch()
	waitLeader(t, m1, 120*time.Second)
	m1.p.waitFor("stanza ready", 1, 60*time.Second)
	m1.sql("appdb", "CREATE TABLE t (id int PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())",
		"INSERT INTO t (id) SELECT generate_series(1, 100)")
	m1.archiveNow()
	out := m1.p.out.String()
	assert.NotContains(t, out, "ERROR: [103]", "a first boot archived into a stanza that did not exist yet")
	assert.NotContains(t, out, "Removing unexpected parameter")
	yml := string(must1(os.ReadFile(filepath.Join(m1.State, "files", "patroni", "patroni.yml"))))
	assert.Contains(t, yml, "create_replica_methods:\n    - pgbackrest\n    - basebackup\n")
	assert.NotContains(t, yml, brPassword)

	code, bout := m1.cli("backup", "--type", "full")
	require.Equal(t, 0, code, bout)
	m1.sql("appdb", "INSERT INTO t (id) SELECT generate_series(101, 200)")
	time.Sleep(1100 * time.Millisecond)
	noted := m1.query("postgres", patroniSuperPassword, "postgres", "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	time.Sleep(1100 * time.Millisecond)
	m1.sql("appdb", "INSERT INTO t (id) SELECT generate_series(201, 300)")
	m1.archiveNow()

	// --- second member: created by pgBackRest from the repository
	m2 := brMember(t, etcd, scope, "node2", repo)
	m2.launch()
	pollUntil(t, "node2 streaming from node1", 120*time.Second, func() error {
		if m2.p.exited() {
			t.Fatalf("entrypoint node2 exited with %d:\n%s", m2.p.code, m2.p.out.String())
		}
		if role, state, err := m2.patroniNode(); err != nil || role != "replica" || state != "running" {
			return fmt.Errorf("node2: %s %s %v", role, state, err)
		}
		n := m1.query("postgres", patroniSuperPassword, "postgres", "SELECT count(*)::text FROM pg_stat_replication WHERE state = 'streaming'")
		if n != "1" {
			return fmt.Errorf("%s streaming replicas", n)
		}
		return nil
	})
	out2 := m2.p.out.String()
	assert.Contains(t, out2, "replica has been created using pgbackrest", "Patroni's log of the method it used")
	assert.NotContains(t, out2, "replica has been created using basebackup")
	assert.Contains(t, out2, "restore command begin")
	pollUntil(t, "node2 has every row", 30*time.Second, func() error {
		if n := m2.rows(); n != 300 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	// the replica's recovery can fetch WAL from the repository
	assert.Contains(t, m2.query("postgres", patroniSuperPassword, "postgres", "SHOW restore_command"), "archive-get")

	// --- failover: node2 becomes leader, creates/uses the stanza, archives
	m1.p.stop()
	waitLeader(t, m2, 60*time.Second)
	m2.p.waitFor("stanza ready", 1, 60*time.Second)
	m2.sql("appdb", "INSERT INTO t (id) SELECT generate_series(301, 400)")
	wal := m2.archiveNow()
	assert.True(t, strings.HasPrefix(wal, "00000002"), "archived %s on the new leader's timeline", wal)
	segs, _ := filepath.Glob(filepath.Join(repo, "archive", "it", "*", "0000000200000000", wal+"-*"))
	assert.Len(t, segs, 1, "WAL %s of the new leader in the repository", wal)
	m2.p.stop()

	// --- restore on boot: a new cluster from the repository
	restoreScope := scope + "-r"
	r := brMember(t, etcd, restoreScope, "restored1", repo, "PGBACKREST_RESTORE", "true", "POSTGRES_DB", "freshdb")
	r.launch()
	waitLeader(t, r, 180*time.Second)
	rout := r.p.out.String()
	assert.Contains(t, rout, "Running custom bootstrap script")
	assert.Contains(t, rout, "POSTGRES_DB is not created and init scripts are not run")
	assert.Equal(t, 400, r.rows(), "the latest state, across node2's timeline")
	assert.Equal(t, "0", r.query("postgres", patroniSuperPassword, "postgres", "SELECT count(*)::text FROM pg_database WHERE datname = 'freshdb'"), "POSTGRES_DB created after a restore")
	assert.Equal(t, "1", r.query("postgres", patroniSuperPassword, "appdb", "SELECT count(*)::text FROM init_ran"), "an init script ran after a restore")
	var provided map[string]string
	require.NoError(t, json.Unmarshal(must1(os.ReadFile(filepath.Join(r.PGData, "pgdock_bootstrap_provided.json"))), &provided))
	assert.Equal(t, "pgbackrest", provided["plugin"])
	r.p.waitFor("stanza ready", 1, 60*time.Second)
	r.sql("appdb", "INSERT INTO t (id) VALUES (401)")
	r.archiveNow()
	firstBoot := r.p.out.String()
	assertRestoredBoot(t, firstBoot)
	// a restart with the variable still set restores nothing
	r.p.stop()
	r.launch()
	waitLeader(t, r, 120*time.Second)
	assert.NotContains(t, r.p.out.String(), "Running custom bootstrap script")
	assert.Equal(t, 401, r.rows())
	r.p.stop()

	// --- point in time: exactly the rows before the noted time
	pitr := brMember(t, etcd, scope+"-p", "pitr1", repo, "PGBACKREST_RESTORE", "true",
		"PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", noted)
	pitr.launch()
	waitLeader(t, pitr, 180*time.Second)
	assert.Equal(t, 200, pitr.rows(), "restore to %s", noted)
	pitr.p.waitFor("stanza ready", 1, 60*time.Second)
	pitr.archiveNow()
	pitr.p.stop()
	assertRestoredBoot(t, pitr.p.out.String())
	for _, m := range []*member{m1, m2} {
		assert.NotContains(t, m.p.out.String(), "[ERROR]", m.name)
	}
}

// assertRestoredBoot checks the log of a first boot that Patroni's
// bootstrap method restored: the host waited for the post-bootstrap
// callback of this cluster (the record the backup's source left in PGDATA
// did not count) before it reported ready, and nothing failed on the way
// (the stanza was created before Patroni restarted the restored server).
func assertRestoredBoot(t *testing.T, out string) {
	t.Helper()
	done := strings.Index(out, "first-boot steps completed (plugin bootstrap hooks)")
	ready := strings.Index(out, "PostgreSQL is ready")
	require.GreaterOrEqual(t, done, 0, "no post-bootstrap callback for the restored cluster")
	assert.Less(t, done, ready, "ready reported before the restored cluster's post-bootstrap callback")
	assert.NotContains(t, out, "[ERROR]")
	assert.NotContains(t, out, "ERROR: [")
}

// TestPgbackrestPatroniRestoreFromDirect: a backup of a direct-mode
// container restored into a new Patroni cluster (moving to Patroni): the
// rows, Patroni's settings in force over the ones the direct-mode server
// left in its data directory, and the restored leader archives.
func TestPgbackrestPatroniRestoreFromDirect(t *testing.T) {
	testpg.Setup(t)
	testpg.NeedRoot(t, "the entrypoint drops to the postgres user that runs Patroni")
	testpg.NeedTool(t, "patroni", "patroni")
	s := newSite(t)
	repo := s.withPgbackrest("POSTGRES_PASSWORD", patroniSuperPassword, "POSTGRES_DB", "appdb", "POSTGRESQL_CONFIG_WORK_MEM", "3MB")
	p := s.start()
	p.ready()
	p.waitFor("stanza ready", 1, 60*time.Second)
	c, err := s.connect("postgres", patroniSuperPassword, "appdb")
	require.NoError(t, err)
	_, err = c.Exec(context.Background(), "CREATE TABLE t AS SELECT generate_series(1, 150) AS id")
	require.NoError(t, err)
	c.Close(context.Background())
	code, out := s.cli("backup", "--type", "full")
	require.Equal(t, 0, code, out)
	p.stop()

	etcd := startEtcd(t)
	m := brMember(t, etcd, "pgbr-direct-"+strconv.Itoa(os.Getpid()), "moved1", repo, "PGBACKREST_RESTORE", "true")
	m.launch()
	waitLeader(t, m, 180*time.Second)
	assert.Equal(t, 150, m.rows())
	assert.Equal(t, "8MB", m.query("postgres", patroniSuperPassword, "postgres", "SHOW work_mem"), "Patroni's parameters win over the direct-mode server's pgdock.conf")
	assert.Equal(t, strconv.Itoa(m.Port), m.query("postgres", patroniSuperPassword, "postgres", "SHOW port"))
	m.p.waitFor("stanza ready", 1, 60*time.Second)
	m.archiveNow()
	assertRestoredBoot(t, m.p.out.String())
	m.p.stop()
}
