package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/cluster"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

const readyLine = "database system is ready to accept connections"

// Official image: first boot with awkward names and password, then TCP login.
func TestFirstBootAwkwardNamesThenRestart(t *testing.T) {
	s := newSite(t)
	user, pass, db := `my odd user`, `pa ss'w"rd $x \n`, `my "db"'s`
	s.set("POSTGRES_USER", user, "POSTGRES_PASSWORD", pass, "POSTGRES_DB", db)
	s.script("01-create.sql", "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('first boot');", 0o644)
	p := s.start()
	p.ready()
	// PostgreSQL logs its ready line just after it marks postmaster.pid ready
	p.waitFor(readyLine, 2, 10*time.Second)
	out := p.out.String()
	assert.Equal(t, 2, strings.Count(out, readyLine), "the ready line appears twice on first boot")
	assert.Contains(t, out, "PostgreSQL init process complete; ready for start up.")
	assert.NotContains(t, out, pass, "the password never reaches the log")
	assert.Equal(t, "first boot", s.query(user, pass, db, "SELECT note FROM marker"))
	assert.Equal(t, user, s.query(user, pass, db, "SELECT current_user"))

	// wrong password is refused: no trust over TCP
	_, err := s.connect(user, "wrong", db)
	assert.ErrorContains(t, err, "password authentication failed")

	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
	assert.False(t, fileExists(filepath.Join(s.PGData, "postmaster.pid")))

	// restart: data kept, init skipped, scripts not run again
	s.script("02-again.sql", "INSERT INTO marker VALUES ('should not run');", 0o644)
	p2 := s.start()
	p2.ready()
	p2.waitFor(readyLine, 1, 10*time.Second)
	out2 := p2.out.String()
	assert.Contains(t, out2, "PostgreSQL Database directory appears to contain a database; Skipping initialization")
	assert.Equal(t, 1, strings.Count(out2, readyLine))
	assert.Equal(t, "1", s.query(user, pass, db, "SELECT count(*)::text FROM marker"))
	p2.signal(syscall.SIGINT)
	assert.Equal(t, 0, p2.wait(30*time.Second))
	assert.Contains(t, p2.out.String(), "received fast shutdown request")
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, err := w.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

func compress(t *testing.T, tool, s string) []byte {
	cmd := exec.Command(tool, "-c")
	cmd.Stdin = strings.NewReader(s)
	pkg := map[string]string{"xz": "xz-utils"}[tool]
	if pkg == "" {
		pkg = tool // gzip, zstd
	}
	testpg.NeedTool(t, tool, pkg)
	out, err := cmd.Output()
	require.NoError(t, err, "%s -c", tool)
	return out
}

func TestInitScriptsOfEveryKind(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret", "POSTGRES_DB", "app")
	s.script("01-table.sql", "CREATE TABLE log (n int, what text);", 0o644)
	s.script("02-exec.sh", "#!/bin/sh\nset -e\npsql -v ON_ERROR_STOP=1 --username \"$POSTGRES_USER\" --dbname \"$POSTGRES_DB\" -c \"INSERT INTO log VALUES (2, 'executable sh as $(id -un)')\"\n", 0o755)
	s.script("03-sourced.sh", "export CARRIED=from-03\ndocker_process_sql -c \"INSERT INTO log VALUES (3, 'sourced sh')\"\n\"${psql[@]}\" -c \"INSERT INTO log VALUES (33, 'psql array')\"\n", 0o644)
	s.script("04-uses-env.sh", "docker_process_sql -c \"INSERT INTO log VALUES (4, '$CARRIED')\"\n", 0o644)
	require.NoError(t, os.WriteFile(filepath.Join(s.Initdb, "05-gz.sql.gz"), gz(t, "INSERT INTO log VALUES (5, 'gzip');"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(s.Initdb, "06-xz.sql.xz"), compress(t, "xz", "INSERT INTO log VALUES (6, 'xz');"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(s.Initdb, "07-zst.sql.zst"), compress(t, "zstd", "INSERT INTO log VALUES (7, 'zstd');"), 0o644))
	s.script("08-notes.txt", "not run", 0o644)
	s.script(".hidden.sql", "INSERT INTO log VALUES (99, 'hidden');", 0o644)
	p := s.start()
	p.ready()
	got := s.query("postgres", "secret", "app", "SELECT string_agg(n || ':' || what, ',' ORDER BY n) FROM log")
	wantOwner := "postgres"
	if os.Getuid() != 0 {
		wantOwner = s.pg.Owner.Name
	}
	assert.Equal(t, "2:executable sh as "+wantOwner+",3:sourced sh,4:from-03,5:gzip,6:xz,7:zstd,33:psql array", got)
	assert.Contains(t, p.out.String(), "ignoring "+filepath.Join(s.Initdb, "08-notes.txt"))
	assert.Contains(t, p.out.String(), "sourcing "+filepath.Join(s.Initdb, "03-sourced.sh"))

	// Local socket logins use peer with pgdock's map: root (docker exec) and the
	// server's OS user reach the superuser role without a password, nobody else.
	if os.Getuid() == 0 {
		cfg, err := pgx.ParseConfig("")
		require.NoError(t, err)
		cfg.Host, cfg.Port, cfg.User, cfg.Database = s.Socket, uint16(s.Port), "postgres", "app"
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		require.NoError(t, err, "root over the socket, no password")
		c.Close(context.Background())
		nobody := exec.Command("psql", "-h", s.Socket, "-p", itoa(s.Port), "-U", "postgres", "-d", "app", "-c", "select 1")
		nobody.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := nobody.CombinedOutput()
		assert.Error(t, err)
		assert.Contains(t, string(out), "Peer authentication failed")
	}
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

func TestFailedInitScriptRefusesNextStart(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	s.script("01-ok.sql", "CREATE TABLE ok (x int);", 0o644)
	s.script("02-bad.sql", "SELECT * FROM no_such_table;", 0o644)
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "02-bad.sql")
	assert.Contains(t, out, `relation "no_such_table" does not exist`)
	assert.False(t, alive(postmasterPID(s.PGData)), "no temporary server left behind")

	code, out = s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "did not finish its first-boot initialisation")
	assert.Contains(t, out, "02-bad.sql")
	assert.NotContains(t, out, readyLine, "the server was not started")
	assert.True(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "PGDATA is left for inspection")
}

func TestNoPasswordIsTheOfficialErrorAndTouchesNothing(t *testing.T) {
	s := newSite(t)
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "Error: Database is uninitialized and superuser password is not specified.")
	assert.Contains(t, out, `You may also use "POSTGRES_HOST_AUTH_METHOD=trust"`)
	assert.False(t, fileExists(s.PGData), "PGDATA not created")
}

func TestInvalidConfigListsEveryProblemAndTouchesNothing(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "x", "PGPORT", "99999", "SHUTDOWN_MODE", "graceful", "TIMEOUT", "soon", "PG_HBA_ADD_1", "host all all nowhere")
	code, out := s.run()
	assert.Equal(t, 1, code)
	for _, v := range []string{"PGPORT", "SHUTDOWN_MODE", "TIMEOUT", "PG_HBA_ADD_1"} {
		assert.Contains(t, out, v)
	}
	assert.False(t, fileExists(s.PGData))
}

func TestTrustWithWarning(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_HOST_AUTH_METHOD", "trust")
	p := s.start()
	p.ready()
	assert.Contains(t, p.out.String(), `WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust"`)
	assert.Equal(t, "postgres", s.query("postgres", "", "postgres", "SELECT current_user"))
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

func TestFileSecretsReadBeforeDroppingPrivileges(t *testing.T) {
	testpg.NeedRoot(t, "the secret files are readable by root only")
	s := newSite(t)
	secrets := t.TempDir()
	for name, v := range map[string]string{"pw": "file secret\n", "user": "fileuser\n", "db": "filedb\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(secrets, name), []byte(v), 0o600))
	}
	s.set("POSTGRES_PASSWORD_FILE", filepath.Join(secrets, "pw"), "POSTGRES_USER_FILE", filepath.Join(secrets, "user"), "POSTGRES_DB_FILE", filepath.Join(secrets, "db"))
	p := s.start()
	p.ready()
	assert.Equal(t, "fileuser@filedb", s.query("fileuser", "file secret", "filedb", "SELECT current_user || '@' || current_database()"))
	assert.NotContains(t, p.out.String(), "file secret")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))

	s2 := newSite(t)
	s2.set("POSTGRES_PASSWORD", "a", "POSTGRES_PASSWORD_FILE", filepath.Join(secrets, "pw"))
	code, out := s2.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)")
}

func TestSignals(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	// SIGHUP reloads: a new user file is picked up without a restart.
	p := s.start()
	p.ready()
	assert.Equal(t, "4MB", s.query("postgres", "secret", "postgres", "SHOW work_mem"))
	require.NoError(t, os.WriteFile(filepath.Join(s.Conf, "postgresql.conf"), []byte("work_mem = '7MB'\n"), 0o644))
	p.signal(syscall.SIGHUP)
	p.waitFor("configuration reloaded", 1, 10*time.Second)
	require.Eventually(t, func() bool { return s.query("postgres", "secret", "postgres", "SHOW work_mem") == "7MB" }, 10*time.Second, 50*time.Millisecond)
	assert.False(t, p.exited(), "SIGHUP does not stop anything")

	// SIGQUIT: immediate shutdown as requested.
	p.signal(syscall.SIGQUIT)
	code := p.wait(30 * time.Second)
	assert.Contains(t, p.out.String(), "received immediate shutdown request")
	assert.Equal(t, 0, code)

	// Crash recovery after the immediate stop, then SIGTERM with SHUTDOWN_MODE=smart.
	s.set("SHUTDOWN_MODE", "SMART")
	p2 := s.start()
	p2.ready()
	assert.Contains(t, p2.out.String(), "database system was interrupted")
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
	assert.Contains(t, p2.out.String(), "received smart shutdown request")
}

func TestShutdownEscalatesWhenASessionHoldsSmartStop(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret", "SHUTDOWN_MODE", "smart", "TIMEOUT", "4")
	p := s.start()
	p.ready()
	c, err := s.connect("postgres", "secret", "postgres")
	require.NoError(t, err)
	defer c.Close(context.Background())
	start := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(30 * time.Second)
	took := time.Since(start)
	out := p.out.String()
	assert.Contains(t, out, "received smart shutdown request")
	assert.Contains(t, out, "received fast shutdown request", "escalated from smart to fast inside the budget")
	assert.Contains(t, out, "escalating shutdown")
	assert.Equal(t, 1, code, "an escalated stop is reported")
	assert.Less(t, took, 4*time.Second+2*time.Second)
}

func TestPostmasterKilledEntrypointExitsNonZero(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	pid := postmasterPID(s.PGData)
	require.True(t, alive(pid))
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	code := p.wait(10 * time.Second)
	assert.Equal(t, 128+9, code)
	assert.Contains(t, p.out.String(), "PostgreSQL exited unexpectedly")
	// no backend of the killed postmaster survives
	out, _ := exec.Command("pgrep", "-f", "postgres: .*"+filepath.Base(s.base)).Output()
	assert.Empty(t, strings.TrimSpace(string(out)))
}

func TestStopDuringBootstrap(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	s.script("01-slow.sh", "#!/bin/sh\necho slow-script-started\nsleep 60\n", 0o755)
	p := s.start()
	p.waitFor("slow-script-started", 1, 60*time.Second)
	start := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(20 * time.Second)
	assert.Equal(t, 1, code)
	assert.Less(t, time.Since(start), 15*time.Second)
	assert.Contains(t, p.out.String(), "stop requested during first-boot initialisation")
	assert.False(t, alive(postmasterPID(s.PGData)), "temporary server stopped")

	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "did not finish its first-boot initialisation")
}

func TestEnvSettingsApplyAndRevert(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret", "POSTGRESQL_CONFIG_WORK_MEM", "64MB", "POSTGRESQL_CONFIG_APPLICATION_NAME", `it's "quoted" # not a comment`,
		"PG_HBA_ADD_1", "host all blocked 127.0.0.1/32 reject")
	p := s.start()
	p.ready()
	assert.Equal(t, "64MB", s.query("postgres", "secret", "postgres", "SHOW work_mem"))
	assert.Equal(t, `it's "quoted" # not a comment`, s.query("postgres", "secret", "postgres", "SELECT current_setting('application_name')"))
	c, err := s.connect("postgres", "secret", "postgres")
	require.NoError(t, err)
	_, err = c.Exec(context.Background(), "CREATE ROLE blocked LOGIN PASSWORD 'x'")
	require.NoError(t, err)
	_, err = c.Exec(context.Background(), "ALTER SYSTEM SET maintenance_work_mem = '99MB'")
	require.NoError(t, err)
	c.Close(context.Background())
	_, err = s.connect("blocked", "x", "postgres")
	assert.ErrorContains(t, err, "rejects connection")
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(30*time.Second))

	s.unset("POSTGRESQL_CONFIG_WORK_MEM", "PG_HBA_ADD_1")
	p2 := s.start()
	p2.ready()
	assert.Equal(t, "4MB", s.query("postgres", "secret", "postgres", "SHOW work_mem"), "removing the variable reverts the setting")
	assert.Equal(t, "99MB", s.query("postgres", "secret", "postgres", "SHOW maintenance_work_mem"), "ALTER SYSTEM still works")
	assert.Equal(t, "blocked", s.query("blocked", "x", "postgres", "SELECT current_user"), "removing the rule removes it")
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
}

func TestArbitraryUIDWithoutPasswdEntry(t *testing.T) {
	testpg.NeedRoot(t, "to start a process as another uid")
	s := newSite(t)
	const uid, gid = 23456, 23456
	for _, d := range []string{s.base} {
		require.NoError(t, os.Chown(d, uid, gid))
	}
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.startAs(&syscall.Credential{Uid: uid, Gid: gid})
	p.ready()
	assert.Equal(t, "postgres", s.query("postgres", "secret", "postgres", "SELECT current_user"))
	fi, err := os.Stat(filepath.Join(s.PGData, "PG_VERSION"))
	require.NoError(t, err)
	assert.EqualValues(t, uid, fi.Sys().(*syscall.Stat_t).Uid)
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

func TestRunsAsThePostgresUserDirectly(t *testing.T) {
	s := newSite(t)
	if s.pg.Credential == nil {
		testpg.Missing(t, "needs root: the test starts the entrypoint as root's target user directly")
	}
	require.NoError(t, os.Chown(s.base, s.pg.Owner.UID, s.pg.Owner.GID))
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.startAs(s.pg.Credential)
	p.ready()
	assert.Equal(t, "postgres", s.query("postgres", "secret", "postgres", "SELECT current_user"))
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

func TestSleepModeStartsAndChangesNothing(t *testing.T) {
	s := newSite(t)
	s.set("SLEEP_MODE", "Yes") // any boolean spelling
	p := s.start()
	p.waitFor("sleep mode", 1, 10*time.Second)
	assert.False(t, fileExists(s.PGData), "PGDATA untouched")
	start := time.Now()
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(5*time.Second))
	assert.Less(t, time.Since(start), time.Second) // the budget (100 ms) is measured by make bench
	assert.NotContains(t, p.out.String(), readyLine)
}

func TestExecPassesOtherCommandsThrough(t *testing.T) {
	s := newSite(t)
	cmd := exec.Command(binary, "sh", "-c", "echo hello; id -u")
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("hello\n%d\n", os.Getuid()), string(out), "stdout is exactly the command's, run as the caller")

	v, err := exec.Command(binary, "--version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(v), "postgres (PostgreSQL) 15")
	assert.False(t, fileExists(s.PGData))
}

func TestInitSubcommand(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	code, out := s.run("init")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "PostgreSQL init process complete")
	assert.False(t, alive(postmasterPID(s.PGData)))
	code, out = s.run("init")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Skipping initialization")
	code, _ = s.run("init", "--enforce")
	assert.Equal(t, 1, code)
}

func TestConfigSubcommands(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "hunter2", "POSTGRESQL_CONFIG_WORK_MEM", "8MB", "PG_HBA_ADD_2", "hostssl all all 10.0.0.0/8 scram-sha-256", "USE_PATRONI", "false")
	code, out := s.run("config", "render")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "work_mem = '8MB'")
	assert.Contains(t, out, "hostssl all all 10.0.0.0/8 scram-sha-256")
	assert.NotContains(t, out, "hunter2")
	code, out = s.run("config", "validate")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "USE_PATRONI")
	s.set("LOG_FORMAT", "xml", "LOG_LEVEL", "loud")
	code, out = s.run("config", "validate")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "LOG_FORMAT")
	assert.Contains(t, out, "LOG_LEVEL")
	assert.False(t, fileExists(s.PGData))
}

// Official image: `postgres -c config_file=/etc/postgresql.conf` works; the
// user's file is then the whole configuration (pgdock warns about it).
func TestCustomConfigFileArgument(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	conf := filepath.Join(s.base, "custom.conf")
	content := "listen_addresses = '127.0.0.1'\nport = " + itoa(s.Port) + "\nunix_socket_directories = '" + s.Socket + "'\n" +
		"hba_file = '" + filepath.Join(s.PGData, "pg_hba.conf") + "'\nwork_mem = '3MB'\n"
	require.NoError(t, os.WriteFile(conf, []byte(content), 0o644))
	p := s.start("postgres", "-c", "config_file="+conf)
	p.ready()
	assert.Equal(t, "3MB", s.query("postgres", "secret", "postgres", "SHOW work_mem"))
	assert.Equal(t, conf, s.query("postgres", "secret", "postgres", "SHOW config_file"))
	assert.Contains(t, p.out.String(), "a custom config_file is used")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// Issue 6.1: a decompressor that finished long before psql (here: the SQL
// ends with a pg_sleep) keeps its exit status. The grace-period reaper stole
// it ("zstd: waitid: no child processes") and failed the first boot.
func TestCompressedInitScriptsWithLongSQL(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	require.NoError(t, os.WriteFile(filepath.Join(s.Initdb, "01.sql.zst"),
		compress(t, "zstd", "CREATE TABLE t (what text); INSERT INTO t VALUES ('zstd'); select pg_sleep(1.5);"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(s.Initdb, "02.sql.xz"),
		compress(t, "xz", "INSERT INTO t VALUES ('xz'); select pg_sleep(1.5);"), 0o644))
	p := s.start()
	p.ready()
	assert.Equal(t, "xz,zstd", s.query("postgres", "secret", "postgres", "SELECT string_agg(what, ',' ORDER BY what) FROM t"))
	assert.NotContains(t, p.out.String(), "no child processes")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// stopGroup freezes a process group (SIGSTOP) so that its files stay still
// while a snapshot is compared, and thaws it when the test ends.
func stopGroup(t *testing.T, pgid int) {
	t.Helper()
	require.NoError(t, syscall.Kill(-pgid, syscall.SIGSTOP))
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGCONT) })
}

// Issue 6.2: a second entrypoint on a live PGDATA (a second container on the
// same volume) exits non-zero, says why, and changes nothing: its
// PG_HBA_ADD_1 trust rule never reaches the running server's files.
func TestSecondEntrypointOnALivePGDATAChangesNothing(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	pm := postmasterPID(s.PGData)
	require.True(t, alive(pm))

	other := filepath.Join(s.base, "st2") // the second container's own state dir
	stopGroup(t, pm)                      // the server changes nothing while we compare
	before := snapshot(t, s.PGData, s.State, other)
	s2 := *s
	s2.env = map[string]string{}
	for k, v := range s.env {
		s2.env[k] = v
	}
	s2.set("PG_HBA_ADD_1", "host all all 0.0.0.0/0 trust", "PGDOCK_STATE_DIR", other, "PGPORT", itoa(s.Port+1))
	code, out := s2.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "PGDATA="+s.PGData+" is in use by another pgdock entrypoint")
	assert.Equal(t, before, snapshot(t, s.PGData, s.State, other), "nothing in PGDATA or the state dirs changed")
	require.NoError(t, syscall.Kill(-pm, syscall.SIGCONT))

	// The running server still refuses a wrong password after a reload.
	assert.Equal(t, "true", s.query("postgres", "secret", "postgres", "SELECT pg_reload_conf()::text"))
	_, err := s.connect("postgres", "wrong", "postgres")
	assert.ErrorContains(t, err, "password authentication failed")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// Issue 6.2: the entrypoint was SIGKILLed and its postmaster lives on (an
// orphan, outside a container): a new entrypoint refuses to touch PGDATA.
func TestOrphanedPostmasterBlocksANewEntrypoint(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	pm := postmasterPID(s.PGData)
	require.NoError(t, syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)) // the entrypoint only
	p.wait(10 * time.Second)
	require.True(t, alive(pm), "the postmaster survived its entrypoint")

	stopGroup(t, pm)
	before := snapshot(t, s.PGData, s.State)
	s.set("PG_HBA_ADD_1", "host all all 0.0.0.0/0 trust")
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "a PostgreSQL server (pid "+itoa(pm)+") is still running on it")
	assert.Equal(t, before, snapshot(t, s.PGData, s.State), "nothing in PGDATA or the state dir changed")
}

// Issue 6.5: SIGKILL of everything while initdb runs, then a normal start:
// the first boot is redone (POSTGRES_DB and the init scripts included),
// never "Skipping initialization" on a half-initialised PGDATA.
func TestKilledDuringInitdbRedoesTheFirstBoot(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret", "POSTGRES_DB", "app")
	s.script("01.sql", "CREATE TABLE ran (x int); INSERT INTO ran VALUES (1);", 0o644)
	p := s.start()
	// initdb writes PG_VERSION early and keeps working for a while after
	// (into a staging directory inside PGDATA, or PGDATA itself).
	staging := filepath.Join(s.PGData, ".pgdock-initdb")
	deadline := time.Now().Add(60 * time.Second)
	for !fileExists(filepath.Join(staging, "PG_VERSION")) && !fileExists(filepath.Join(s.PGData, "PG_VERSION")) {
		require.False(t, p.exited(), "the entrypoint ended before initdb ran:\n%s", p.out.String())
		require.True(t, time.Now().Before(deadline), "initdb never started")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)) // the entrypoint and initdb
	p.wait(10 * time.Second)
	assert.NotContains(t, p.out.String(), "PostgreSQL init process complete", "killed mid-initdb, not after")

	p2 := s.start()
	p2.ready()
	out := p2.out.String()
	assert.NotContains(t, out, cluster.SkippingMessage)
	assert.Contains(t, out, "initialising again")
	assert.Contains(t, out, "PostgreSQL init process complete")
	assert.Equal(t, "1", s.query("postgres", "secret", "app", "SELECT count(*)::text FROM ran"))
	assert.False(t, fileExists(staging))
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
}

// Issue 6.6: an init script that ignores SIGTERM does not make the container
// unstoppable: the stop ends inside TIMEOUT with SIGKILL of the script's
// group, and nothing of the bootstrap (temporary server included) is left.
func TestInitScriptIgnoringSIGTERMIsKilledInsideTimeout(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret", "TIMEOUT", "3")
	s.script("01-stubborn.sh", "#!/bin/sh\ntrap '' TERM\necho \"stubborn-started $$\"\nsleep 1000\n", 0o755)
	p := s.start()
	p.waitFor("stubborn-started", 1, 60*time.Second)
	var script int
	_, err := fmt.Sscanf(p.out.String()[strings.Index(p.out.String(), "stubborn-started"):], "stubborn-started %d", &script)
	require.NoError(t, err)
	temp := postmasterPID(s.PGData)
	require.True(t, alive(temp), "the temporary server runs")
	start := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(20 * time.Second)
	took := time.Since(start)
	assert.Equal(t, 1, code)
	assert.Less(t, took, 3*time.Second+1500*time.Millisecond, "stopped inside TIMEOUT")
	assert.True(t, groupGone(script), "no process of the init script's group is left")
	assert.True(t, gone(temp), "the temporary server is gone")
	assert.Contains(t, p.out.String(), "killing its process group")
}

// Issue 6.7: after bootstrap, PostgreSQL and its children get no secret in
// their environment; init scripts still see them.
func TestNoSecretsInTheServersEnvironment(t *testing.T) {
	s := newSite(t)
	secrets := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "repl"), []byte("repl-from-file-secret\n"), 0o644))
	s.set("POSTGRES_PASSWORD", "pw-secret-value", "REPLICATION_PASSWORD_FILE", filepath.Join(secrets, "repl"),
		"MY_API_TOKEN", "token-secret-value")
	outDir := filepath.Join(s.base, "out") // where the server's user may write
	require.NoError(t, os.Mkdir(outDir, 0o777))
	require.NoError(t, os.Chmod(outDir, 0o777))
	seen := filepath.Join(outDir, "script-saw")
	s.script("01-env.sh", "#!/bin/sh\necho \"$POSTGRES_PASSWORD\" > "+seen+"\n", 0o755)
	p := s.start()
	p.ready()
	saw, err := os.ReadFile(seen)
	require.NoError(t, err)
	assert.Equal(t, "pw-secret-value\n", string(saw), "init scripts keep POSTGRES_PASSWORD, as in the official image")

	envFile := filepath.Join(outDir, "server-env")
	s.testEnvDump(envFile)
	dump, err := os.ReadFile(envFile)
	require.NoError(t, err)
	environ, err := os.ReadFile("/proc/" + itoa(postmasterPID(s.PGData)) + "/environ")
	require.NoError(t, err)
	for _, where := range []string{string(dump), string(environ)} {
		for _, secret := range []string{"pw-secret-value", "repl-from-file-secret", "token-secret-value", "POSTGRES_PASSWORD=", "REPLICATION_PASSWORD="} {
			assert.NotContains(t, where, secret)
		}
		assert.Contains(t, where, "PGDATA=", "the rest of the environment is kept")
	}
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// testEnvDump has the server write its children's environment to path.
func (s *site) testEnvDump(path string) {
	s.t.Helper()
	c, err := s.connect("postgres", "pw-secret-value", "postgres")
	require.NoError(s.t, err)
	defer c.Close(context.Background())
	_, err = c.Exec(context.Background(), "COPY (SELECT 1) TO PROGRAM 'env > "+path+"'")
	require.NoError(s.t, err)
}

// Issue 6.3: an existing shared directory (a sticky /tmp-like one) used as
// socket directory and as state directory keeps its owner and mode, and so
// does everything in it that pgdock did not create.
func TestSharedStickyDirectoriesAreLeftAsTheyWere(t *testing.T) {
	testpg.NeedRoot(t, "the fault is a root entrypoint chowning a shared directory")
	s := newSite(t)
	shared := filepath.Join(s.base, "tmp")
	require.NoError(t, os.Mkdir(shared, 0o755))
	require.NoError(t, syscall.Chmod(shared, 0o1777))
	foreign := filepath.Join(shared, "someone-elses")
	require.NoError(t, os.MkdirAll(filepath.Join(foreign, "deep"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(foreign, "deep", "file"), []byte("x"), 0o600))
	for _, p := range []string{foreign, filepath.Join(foreign, "deep"), filepath.Join(foreign, "deep", "file")} {
		require.NoError(t, os.Chown(p, 65534, 65534))
	}
	before := snapshot(t, shared)
	s.set("POSTGRES_PASSWORD", "secret", "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", shared, "PGDOCK_STATE_DIR", shared)
	p := s.start()
	p.ready()
	after := snapshot(t, shared)
	for path, st := range before {
		if path == shared {
			assert.Equal(t, st.Mode, after[path].Mode, "mode of the shared directory")
			assert.Equal(t, st.UID, after[path].UID, "owner of the shared directory")
			assert.Equal(t, st.GID, after[path].GID)
			continue
		}
		assert.Equal(t, st, after[path], path)
	}
	assert.True(t, fileExists(filepath.Join(shared, ".s.PGSQL."+itoa(s.Port))), "the server's socket is there")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// Issue 6.11: PGDATA may be a symlink to a directory; as in the official
// image the target is what gets created, chowned and initialised.
func TestSymlinkedPGDATA(t *testing.T) {
	s := newSite(t)
	target := filepath.Join(s.base, "real-data")
	require.NoError(t, os.Mkdir(target, 0o755)) // root-owned when the tests run as root
	link := filepath.Join(s.base, "data-link")
	require.NoError(t, os.Symlink(target, link))
	s.PGData = link
	s.set("PGDATA", link, "POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	assert.True(t, fileExists(filepath.Join(target, "PG_VERSION")))
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, fi.Mode()&os.ModeSymlink != 0, "the link stays a link")
	if os.Getuid() == 0 {
		ti, err := os.Stat(target)
		require.NoError(t, err)
		assert.EqualValues(t, s.pg.Owner.UID, ti.Sys().(*syscall.Stat_t).Uid, "the target belongs to the server's user")
	}
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
}

// Issue 6.12: arbitrary --user uids, with PGDOCK_STATE_DIR unset, work: the
// state directory is the one state.ResolveDir names (the healthcheck's rule).
func TestArbitraryUsersWithoutAStateDir(t *testing.T) {
	testpg.NeedRoot(t, "starting the entrypoint as other uids")
	for _, id := range []struct{ uid, gid uint32 }{{999, 999}, {1000, 1000}, {12345, 0}} {
		t.Run(fmt.Sprintf("%d:%d", id.uid, id.gid), func(t *testing.T) {
			s := newSite(t)
			require.NoError(t, os.Chown(s.base, int(id.uid), int(id.gid))) // a bind directory it owns
			dir := state.ResolveDir("", int(id.uid))
			if dir != state.DefaultDir {
				t.Cleanup(func() { os.RemoveAll(dir) })
			}
			s.unset("PGDOCK_STATE_DIR")
			s.set("POSTGRES_PASSWORD", "secret")
			p := s.startAs(&syscall.Credential{Uid: id.uid, Gid: id.gid})
			p.ready()
			st, err := state.Read(dir)
			require.NoError(t, err, "the state file is where the healthcheck looks")
			assert.Equal(t, state.PhaseRunning, st.Phase)
			assert.Equal(t, "postgres", s.query("postgres", "secret", "postgres", "SELECT current_user"))
			p.signal(syscall.SIGTERM)
			assert.Equal(t, 0, p.wait(30*time.Second))
		})
	}
}
