package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// Patroni mode through the entrypoint: three pgdock-entrypoint processes with
// PATRONI_ENABLE=true and one etcd on loopback.

// patroniPlugin is plugins/patroni, built into a plugin directory of its own.
var patroniPlugin = &pluginBuild{name: "patroni", module: "../../plugins/patroni", pkg: "./cmd/pgdock-plugin-patroni"}

// patroniPluginDir is the patroni plugin's directory (built once).
func patroniPluginDir(t *testing.T) string { return patroniPlugin.Dir(t) }

// startEtcd runs one etcd member on loopback ports and returns host:port of
// its client URL. Its environment is built from scratch: etcd reads ETCD_*.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin := testpg.NeedTool(t, "etcd", "etcd-server")
	dir, err := os.MkdirTemp("", "pgd-etcd-")
	require.NoError(t, err)
	client := "127.0.0.1:" + strconv.Itoa(testpg.FreePort(t))
	peer := "http://127.0.0.1:" + strconv.Itoa(testpg.FreePort(t))
	cmd := exec.Command(bin, "--name", "e1", "--data-dir", filepath.Join(dir, "data"),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "e1="+peer)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("etcd output:\n%s", out.String())
		}
		os.RemoveAll(dir)
	})
	hc := &http.Client{Timeout: time.Second}
	pollUntil(t, "etcd healthy", 30*time.Second, func() error {
		resp, err := hc.Get("http://" + client + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	})
	return client
}

// pollUntil polls cond every 200 ms until it returns nil, failing the test
// with the last error after d.
func pollUntil(t *testing.T, what string, d time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type member struct {
	*site
	name string
	rest int
	p    *proc
}

// launch starts the member's entrypoint. At cleanup (before the harness
// SIGKILLs the entrypoint's group) it is stopped with SIGTERM, so that it
// stops Patroni, which runs in a process group of its own; a Patroni left
// behind anyway is killed by its pid.
func (m *member) launch() {
	m.p = m.start()
	p := m.p
	m.t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				m.t.Errorf("%s: entrypoint still running 30 s after SIGTERM", m.name)
			}
		}
		for _, pid := range patroniProcesses(m.State) {
			m.t.Errorf("%s: Patroni (pid %d) outlived its entrypoint", m.name, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// patroniProcesses lists live patroni processes whose command line names a
// file under dir.
func patroniProcesses(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || zombie(pid) {
			continue
		}
		if strings.Contains(string(cmdline), "patroni") && strings.Contains(string(cmdline), dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// patroniNode asks the member's Patroni REST API for its role and state.
func (m *member) patroniNode() (role, state string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(m.rest)+"/patroni", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var n struct{ Role, State string }
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil {
		return "", "", err
	}
	return n.Role, n.State, nil
}

const (
	patroniSuperPassword = `su#per: "pw'`
	patroniReplPassword  = `re#pl: 'pw"`
)

func newMembers(t *testing.T, n int, etcd string) []*member {
	scope := "pgd-" + strconv.Itoa(os.Getpid())
	var ms []*member
	for i := 1; i <= n; i++ {
		s := newSite(t)
		m := &member{site: s, name: "node" + strconv.Itoa(i), rest: testpg.FreePort(t)}
		s.unset("POSTGRES_INITDB_ARGS")                           // --no-sync: Patroni's initdb refuses it
		s.set("PATH", filepath.Dir(binary)+":"+os.Getenv("PATH"), // Patroni's post_bootstrap calls pgdock-entrypoint
			"PGDOCK_PLUGIN_DIR", patroniPluginDir(t), "PATRONI_ENABLE", "true",
			"PATRONI_SCOPE", scope, "PATRONI_NAME", m.name, "PATRONI_REST_PORT", strconv.Itoa(m.rest),
			"PATRONI_REST_CONNECT_HOST", "127.0.0.1", "ETCD_HOSTS", etcd,
			"PATRONI_TTL", "10", "PATRONI_LOOP_WAIT", "2", "PATRONI_RETRY_TIMEOUT", "4",
			"POSTGRES_PASSWORD", patroniSuperPassword, "REPLICATION_PASSWORD", patroniReplPassword,
			"POSTGRES_DB", "appdb", "TIMEOUT", "20",
			"POSTGRESQL_CONFIG_WORK_MEM", "8MB", "PG_HBA_ADD_1", "host all all 192.0.2.0/24 reject")
		s.script("10-once.sql", "CREATE TABLE init_ran(node text DEFAULT current_setting('cluster_name'), at timestamptz DEFAULT now()); INSERT INTO init_ran DEFAULT VALUES;\n", 0o644)
		ms = append(ms, m)
	}
	return ms
}

// leaderOf returns the one running master/primary among live members.
func leaderOf(ms []*member) (*member, error) {
	var l *member
	for _, m := range ms {
		if m.p == nil || m.p.exited() {
			continue
		}
		role, state, err := m.patroniNode()
		if err != nil || state != "running" || (role != "master" && role != "primary") {
			continue
		}
		if l != nil {
			return nil, fmt.Errorf("two leaders: %s and %s", l.name, m.name)
		}
		l = m
	}
	if l == nil {
		return nil, fmt.Errorf("no leader")
	}
	return l, nil
}

func TestPatroniThreeEntrypoints(t *testing.T) {
	testpg.Setup(t)
	testpg.NeedRoot(t, "the entrypoint drops to the postgres user that runs Patroni")
	testpg.NeedTool(t, "patroni", "patroni")
	etcd := startEtcd(t)
	ms := newMembers(t, 3, etcd)
	start := time.Now()
	for _, m := range ms {
		m.launch()
	}
	var leader *member
	pollUntil(t, "one leader and two streaming replicas", 120*time.Second, func() error {
		for _, m := range ms {
			if m.p.exited() {
				t.Fatalf("entrypoint %s exited with %d:\n%s", m.name, m.p.code, m.p.out.String())
			}
		}
		l, err := leaderOf(ms)
		if err != nil {
			return err
		}
		leader = l
		for _, m := range ms {
			if m == l {
				continue
			}
			if role, state, err := m.patroniNode(); err != nil || role != "replica" || state != "running" {
				return fmt.Errorf("%s: %s %s %v", m.name, role, state, err)
			}
		}
		c, err := l.connect("postgres", patroniSuperPassword, "postgres")
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		var n int
		if err := c.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("%d streaming replicas", n)
		}
		return nil
	})
	t.Logf("three entrypoints: healthy cluster %s after start, leader %s", time.Since(start).Round(100*time.Millisecond), leader.name)

	// The state file and the healthcheck follow Patroni: mode, role and the
	// postmaster Patroni started.
	for _, m := range ms {
		want := "replica"
		if m == leader {
			want = "primary"
		}
		pollUntil(t, m.name+": state file and healthcheck", 15*time.Second, func() error {
			st, err := state.Read(m.State)
			if err != nil {
				return err
			}
			if st.Mode != "patroni" || st.Role != want || !slices.Contains(patroniProcesses(m.State), st.ModeChildPID) || st.PostmasterPID != postmasterPID(m.PGData) {
				return fmt.Errorf("state mode %q role %q (want %s) mode child %d (patroni: %v) postmaster %d (PGDATA says %d)",
					st.Mode, st.Role, want, st.ModeChildPID, patroniProcesses(m.State), st.PostmasterPID, postmasterPID(m.PGData))
			}
			if code, out := m.health("readiness"); code != 0 {
				return fmt.Errorf("pgdock-healthcheck readiness: %d %s", code, out)
			}
			return nil
		})
	}

	// A fourth entrypoint under the leader's name is refused before it
	// touches anything.
	dup := newMembers(t, 1, etcd)[0]
	dup.set("PATRONI_NAME", leader.name, "PATRONI_SCOPE", leader.env["PATRONI_SCOPE"])
	code, out := dup.run()
	assert.Equal(t, 1, code, "a second member named %s", leader.name)
	assert.Contains(t, out, "already used by another live member")
	assert.Contains(t, out, "PATRONI_NAME")
	entries, _ := os.ReadDir(dup.PGData)
	assert.Empty(t, entries, "nothing written for the refused member; output:\n%s", out)

	// The host's merged configuration reaches Patroni: a POSTGRESQL_CONFIG_*
	// setting and a PG_HBA_ADD_n rule are in force on every member.
	for _, m := range ms {
		assert.Equal(t, "8MB", m.query("postgres", patroniSuperPassword, "postgres", "SHOW work_mem"), m.name)
		hba, err := os.ReadFile(filepath.Join(m.PGData, "pg_hba.conf"))
		require.NoError(t, err)
		assert.Contains(t, string(hba), "host all all 192.0.2.0/24 reject", "%s: Patroni's pg_hba.conf", m.name)
	}

	// POSTGRES_DB and the init script exist once, replicated everywhere.
	assert.Equal(t, "1", leader.query("postgres", patroniSuperPassword, "appdb", "SELECT count(*)::text FROM init_ran"))
	c, err := leader.connect("postgres", patroniSuperPassword, "appdb")
	require.NoError(t, err)
	_, err = c.Exec(context.Background(), "CREATE TABLE t AS SELECT generate_series(1, 100) AS i")
	require.NoError(t, err)
	require.NoError(t, c.Close(context.Background()))
	for _, m := range ms {
		if m == leader {
			continue
		}
		pollUntil(t, "rows and init script on "+m.name, 30*time.Second, func() error {
			c, err := m.connect("postgres", patroniSuperPassword, "appdb")
			if err != nil {
				return err
			}
			defer c.Close(context.Background())
			var rows, inits int
			if err := c.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM init_ran)").Scan(&rows, &inits); err != nil {
				return err
			}
			if rows != 100 || inits != 1 {
				return fmt.Errorf("%d rows, init script ran %d times", rows, inits)
			}
			return nil
		})
	}

	// SIGTERM to the leader's entrypoint: Patroni stops PostgreSQL and
	// releases the leader key, the entrypoint exits 0 within TIMEOUT, and a
	// replica takes over.
	old := leader
	sigterm := time.Now()
	old.p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, old.p.wait(25*time.Second), "the old leader's entrypoint exits 0; output:\n%s", old.p.out.String())
	pollUntil(t, "a new leader", 10*time.Second, func() error {
		l, err := leaderOf(ms)
		if err != nil {
			return err
		}
		leader = l
		return nil
	})
	assert.NotEqual(t, old.name, leader.name)
	t.Logf("failover after SIGTERM of the leader's entrypoint: %s", time.Since(sigterm).Round(10*time.Millisecond))
	assert.False(t, alive(postmasterPID(old.PGData)), "the old leader's PostgreSQL stopped")
	pollUntil(t, "the new leader's state file says primary", 10*time.Second, func() error {
		st, err := state.Read(leader.State)
		if err != nil {
			return err
		}
		if st.Role != "primary" || st.PostmasterPID != postmasterPID(leader.PGData) {
			return fmt.Errorf("role %q postmaster %d", st.Role, st.PostmasterPID)
		}
		return nil
	})

	// Restarted, the old leader rejoins as a replica; the init script does not run again.
	old.launch()
	pollUntil(t, old.name+" rejoins as a replica", 60*time.Second, func() error {
		if old.p.exited() {
			t.Fatalf("entrypoint %s exited with %d:\n%s", old.name, old.p.code, old.p.out.String())
		}
		role, state, err := old.patroniNode()
		if err != nil || role != "replica" || state != "running" {
			return fmt.Errorf("%s %s %v", role, state, err)
		}
		return nil
	})
	assert.Equal(t, "1", leader.query("postgres", patroniSuperPassword, "appdb", "SELECT count(*)::text FROM init_ran"))

	// A reload (SIGHUP) rewrites patroni.yml without losing the merged
	// configuration, and Patroni keeps serving.
	leader.p.signal(syscall.SIGHUP)
	leader.p.waitFor("configuration reloaded", 1, 10*time.Second)
	yml, err := os.ReadFile(filepath.Join(leader.State, "files", "patroni", "patroni.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(yml), "host all all 192.0.2.0/24 reject")
	assert.Contains(t, string(yml), "work_mem: 8MB")
	pollUntil(t, "the leader after the reload", 10*time.Second, func() error {
		_, err := leaderOf(ms)
		return err
	})
}

// TestPatroniBadInputTouchesNothing: the plugin's problems are reported all at
// once, naming each variable, before anything is written into PGDATA (the
// host may have created the empty directory); no password leaks.
func TestPatroniBadInputTouchesNothing(t *testing.T) {
	testpg.Setup(t)
	s := newSite(t)
	s.unset("POSTGRES_INITDB_ARGS")
	s.set("PGDOCK_PLUGIN_DIR", patroniPluginDir(t), "PATRONI_ENABLE", "yes", "POSTGRES_PASSWORD", "pw-secret-1",
		"ETCD_HOSTS", "http://etcd:2379", "PATRONI_TTL", "20", "PATRONI_REST_USERNAME", "admin",
		"PATRONI_SYNCHRONOUS_MODE", "maybe", "PATRONI_WATCHDOG_MODE", "off")
	code, out := s.run()
	assert.Equal(t, 1, code)
	for _, want := range []string{"REPLICATION_PASSWORD", "ETCD_HOSTS", "PATRONI_TTL", "PATRONI_REST_PASSWORD", "PATRONI_SYNCHRONOUS_MODE", "PATRONI_WATCHDOG_MODE"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "pw-secret-1")
	entries, _ := os.ReadDir(s.PGData)
	assert.Empty(t, entries, "nothing written into PGDATA")
}
