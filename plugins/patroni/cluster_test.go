package patroni

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/pgbin"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// The host-tier cluster test: real etcd 3 and three real Patroni 3 processes
// on loopback, configured only by Render, proving the rendered file forms a
// working cluster. It runs Patroni directly (not through the entrypoint).

const (
	clusterTTL      = 10 // the tuned pair of the benchmark: ttl 10, loop_wait 2
	clusterLoopWait = 2
	clusterRetry    = 4
	// Passwords with YAML's special characters: the cluster only forms if
	// they reach PostgreSQL and pgpass unchanged.
	clusterSuperPassword = `su#per: "pw' &x`
	clusterReplPassword  = `re#pl: 'pw" *y`
)

// proc is a started program with its exit observed once.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

func startProc(t *testing.T, name, logPath string, cred *syscall.Credential, env []string, argv ...string) *proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	require.NoError(t, err)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	require.NoError(t, cmd.Start(), "start %s", name)
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process, waits up to d, then kills its group.
func (p *proc) stop(sig syscall.Signal, d time.Duration) bool {
	if p.exited() {
		return true
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // leftovers of the group
		return true
	case <-time.After(d):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return false
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond every 200 ms until it returns nil or the deadline
// passes; the last error is the failure message.
func waitFor(t *testing.T, what string, d time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type node struct {
	name    string
	dir     string
	pgport  int
	rest    *REST
	server  sdk.Server
	cfgPath string
	patroni *proc
}

type cluster struct {
	t        *testing.T
	base     string
	uid      int
	gid      int
	bin      string
	nodes    []*node
	cfgs     []Config // each node's configuration, as Load returned it
	etcd     *proc
	etcdArgs []string
	etcdURL  string
	procs    []*proc
	env      []string
	logDir   string
}

func (c *cluster) cred() *syscall.Credential {
	return &syscall.Credential{Uid: uint32(c.uid), Gid: uint32(c.gid)}
}

func (c *cluster) mkdir(path string, mode os.FileMode) {
	require.NoError(c.t, os.MkdirAll(path, mode))
	require.NoError(c.t, os.Chmod(path, mode))
	require.NoError(c.t, os.Chown(path, c.uid, c.gid))
}

// psql runs SQL on a node through its socket as the OS user postgres (peer
// authentication through the rendered pg_ident map).
func (c *cluster) psql(n *node, sql string) (string, error) {
	cmd := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", n.server.SocketDir, "-p", strconv.Itoa(n.pgport), "-U", "postgres", "-d", "postgres", "-c", sql)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PGCONNECT_TIMEOUT=3"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred()}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql on %s: %w: %s", n.name, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func (c *cluster) dumpLogs() {
	entries, _ := os.ReadDir(c.logDir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(c.logDir, e.Name()))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		c.t.Logf("---- %s (last %d lines)\n%s", e.Name(), len(lines), strings.Join(lines, "\n"))
	}
}

func newCluster(t *testing.T, members int, extra map[string]string) *cluster {
	if testing.Short() {
		t.Skip("host-tier cluster test (real etcd and Patroni)")
	}
	sdktest.NeedRoot(t, "runs Patroni and PostgreSQL as the postgres user")
	etcdBin := sdktest.NeedTool(t, "etcd", "etcd-server")
	sdktest.NeedTool(t, "patroni", "patroni")
	pg, err := user.Lookup("postgres")
	if err != nil {
		sdktest.Missing(t, "no postgres user (Debian package postgresql-15)")
	}
	bin, err := pgbin.FindBinDir(nil, "")
	if err != nil {
		sdktest.Missing(t, err.Error())
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	base, err := os.MkdirTemp("", "pgdock-patroni-")
	require.NoError(t, err)
	c := &cluster{t: t, base: base, uid: uid, gid: gid, bin: bin, logDir: filepath.Join(base, "logs")}
	require.NoError(t, os.Chmod(base, 0o755))
	require.NoError(t, os.MkdirAll(c.logDir, 0o777))
	require.NoError(t, os.Chmod(c.logDir, 0o777))
	t.Cleanup(func() {
		for _, p := range c.procs {
			p.stop(syscall.SIGTERM, 15*time.Second)
		}
		// Patroni starts PostgreSQL in a session of its own: stop what a
		// killed Patroni left behind.
		for _, n := range c.nodes {
			if pid, err := PostmasterPID(n.server.PGData); err == nil && syscall.Kill(pid, 0) == nil {
				cmd := exec.Command(filepath.Join(c.bin, "pg_ctl"), "stop", "-m", "immediate", "-w", "-t", "10", "-D", n.server.PGData)
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred()}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Logf("stop leftover postgres of %s: %v: %s", n.name, err, out)
				}
			}
		}
		if t.Failed() {
			c.dumpLogs()
		}
		_ = os.RemoveAll(base)
	})

	// One etcd member on loopback; its environment is built from scratch
	// (etcd reads ETCD_* itself and refuses a flag also set in env).
	clientPort, peerPort := freePort(t), freePort(t)
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	c.etcdArgs = []string{etcdBin, "--name", "e1", "--data-dir", filepath.Join(base, "etcd"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "e1=" + peer, "--initial-cluster-state", "new"}
	c.etcdURL = client
	c.startEtcd()
	scope := "pgdock-test-" + strconv.Itoa(os.Getpid())
	for i := 1; i <= members; i++ {
		n := &node{name: "node" + strconv.Itoa(i), pgport: freePort(t)}
		n.dir = filepath.Join(base, n.name)
		c.mkdir(n.dir, 0o700)
		c.mkdir(filepath.Join(n.dir, "run"), 0o700)
		c.mkdir(filepath.Join(n.dir, "files"), 0o700)
		restPort := freePort(t)
		n.rest = NewREST(restPort)
		n.server = sdk.Server{PGData: filepath.Join(n.dir, "data"), Port: n.pgport, SocketDir: filepath.Join(n.dir, "run"),
			Superuser: "postgres", FilesDir: filepath.Join(n.dir, "files")}
		env := map[string]string{
			EnvScope: scope, EnvName: n.name, EnvRESTPort: strconv.Itoa(restPort), EnvRESTConnectHost: "127.0.0.1",
			EnvETCDHosts: "127.0.0.1:" + strconv.Itoa(clientPort), EnvTTL: strconv.Itoa(clusterTTL),
			EnvLoopWait: strconv.Itoa(clusterLoopWait), EnvRetryTimeout: strconv.Itoa(clusterRetry),
			EnvReplicationPass: clusterReplPassword, EnvPostgresPassword: clusterSuperPassword,
			EnvInitdbArgs: "--data-checksums", EnvLang: "C.UTF-8",
		}
		for k, v := range extra {
			env[k] = v
		}
		cfg, problems := Load(env, OSSystem())
		require.Empty(t, problems)
		c.cfgs = append(c.cfgs, cfg)
		// The post-bootstrap hook records where it ran; Patroni passes a
		// connection string as its argument.
		hook := filepath.Join(n.dir, "post-bootstrap.sh")
		require.NoError(t, os.WriteFile(hook, []byte("#!/bin/sh\necho \"$1\" > "+filepath.Join(n.dir, "files", "post-bootstrap-ran")+"\n"), 0o755))
		f, err := Render(cfg, Input{
			Server: n.server, BinDir: bin, LogLevel: "info", PostBootstrap: hook,
			Settings: []sdk.Setting{{Name: "listen_addresses", Value: "127.0.0.1"}, {Name: "max_connections", Value: "30"}, {Name: "shared_buffers", Value: "16MB"}},
		})
		require.NoError(t, err)
		n.cfgPath = filepath.Join(n.server.FilesDir, f.Path)
		require.NoError(t, os.WriteFile(n.cfgPath, f.Content, f.Mode))
		require.NoError(t, os.Chown(n.cfgPath, uid, gid))
		c.nodes = append(c.nodes, n)
	}
	parent := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": pg.HomeDir}
	childEnv := ChildEnv(func(k string) string { return parent[k] }, nil)
	for k, v := range childEnv {
		c.env = append(c.env, k+"="+v)
	}
	return c
}

// startEtcd starts (or restarts, on the same data directory) the etcd
// member and waits until it is healthy.
func (c *cluster) startEtcd() {
	t := c.t
	c.etcd = startProc(t, "etcd", filepath.Join(c.logDir, "etcd.log"), nil, []string{"PATH=/usr/bin:/bin"}, c.etcdArgs...)
	c.procs = append(c.procs, c.etcd)
	hc := &http.Client{Timeout: time.Second}
	waitFor(t, "etcd healthy", 30*time.Second, func() error {
		if c.etcd.exited() {
			return fmt.Errorf("etcd exited: %v", c.etcd.err)
		}
		resp, err := hc.Get(c.etcdURL + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	})
}

func (c *cluster) start(n *node) {
	n.patroni = startProc(c.t, n.name, filepath.Join(c.logDir, n.name+".log"), c.cred(), c.env, "patroni", n.cfgPath)
	c.procs = append(c.procs, n.patroni)
}

// roles returns each running node's pgdock role.
func (c *cluster) roles() map[string]string {
	out := map[string]string{}
	for _, n := range c.nodes {
		if n.patroni == nil || n.patroni.exited() {
			continue
		}
		out[n.name] = StatusOf(context.Background(), n.rest, n.server.PGData, n.name, false).Role.String()
	}
	return out
}

func (c *cluster) leader() (*node, error) {
	var found *node
	for _, n := range c.nodes {
		if n.patroni == nil || n.patroni.exited() {
			continue
		}
		st := StatusOf(context.Background(), n.rest, n.server.PGData, n.name, false)
		if st.Role == sdk.RolePrimary && st.Ready {
			if found != nil {
				return nil, fmt.Errorf("two primaries: %s and %s", found.name, n.name)
			}
			found = n
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no ready primary: %v", c.roles())
	}
	return found, nil
}

func TestClusterForms_FailsOver(t *testing.T) {
	c := newCluster(t, 3, nil)
	start := time.Now()
	for _, n := range c.nodes {
		c.start(n)
	}
	leader := c.waitFormed()
	// A second member under a live member's name is refused before it
	// starts; the live member itself and a fresh name pass.
	dup := c.cfgs[0]
	dup.RESTPort = freePort(t)
	require.ErrorIs(t, CheckName(context.Background(), dup, nil), ErrNameTaken)
	require.NoError(t, CheckName(context.Background(), c.cfgs[0], nil))
	fresh := dup
	fresh.Name = "node9"
	require.NoError(t, CheckName(context.Background(), fresh, nil))

	t.Logf("three-node cluster healthy %s after start (leader %s)", time.Since(start).Round(100*time.Millisecond), leader.name)

	// Exactly one node bootstrapped, and it ran the post-bootstrap hook.
	var ran []string
	for _, n := range c.nodes {
		if _, err := os.Stat(filepath.Join(n.server.FilesDir, "post-bootstrap-ran")); err == nil {
			ran = append(ran, n.name)
		}
	}
	assert.Equal(t, []string{leader.name}, ran, "post_bootstrap runs once, on the bootstrapping node")

	// The hostile passwords reached PostgreSQL: log in over TCP with them.
	login := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-A", "-t", "-h", "127.0.0.1", "-p", strconv.Itoa(leader.pgport), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1")
	login.Env = []string{"PATH=/usr/bin:/bin", "PGPASSWORD=" + clusterSuperPassword, "PGCONNECT_TIMEOUT=3"}
	out, err := login.CombinedOutput()
	require.NoError(t, err, "superuser login over TCP with the rendered password: %s", out)

	// Rows written on the leader are read on both replicas.
	_, err = c.psql(leader, "CREATE TABLE pgdock_t(i int); INSERT INTO pgdock_t SELECT generate_series(1, 100)")
	require.NoError(t, err)
	for _, n := range c.nodes {
		if n == leader {
			continue
		}
		waitFor(t, "rows on "+n.name, 30*time.Second, func() error {
			out, err := c.psql(n, "SELECT count(*) FROM pgdock_t")
			if err != nil {
				return err
			}
			if out != "100" {
				return fmt.Errorf("%s rows", out)
			}
			return nil
		})
	}

	// SIGTERM to the leader's Patroni: it stops PostgreSQL, releases the
	// leader key, and another member takes over within the ttl.
	old := leader
	sigterm := time.Now()
	require.True(t, old.patroni.stop(syscall.SIGTERM, 30*time.Second), "patroni %s did not exit within 30 s of SIGTERM", old.name)
	exitedAfter := time.Since(sigterm)
	var exitErr *exec.ExitError
	if old.patroni.err != nil && errors.As(old.patroni.err, &exitErr) {
		t.Logf("old leader's patroni exit: %v", old.patroni.err)
	}
	var newLeader *node
	waitFor(t, "a new leader", time.Duration(clusterTTL)*time.Second, func() error {
		l, err := c.leader()
		if err != nil {
			return err
		}
		newLeader = l
		return nil
	})
	failover := time.Since(sigterm)
	assert.NotEqual(t, old.name, newLeader.name)
	t.Logf("failover after SIGTERM of the leader: old patroni exited after %s, new leader %s ready %s after SIGTERM",
		exitedAfter.Round(10*time.Millisecond), newLeader.name, failover.Round(10*time.Millisecond))
	_, err = c.psql(newLeader, "INSERT INTO pgdock_t VALUES (101)")
	require.NoError(t, err, "the new leader accepts writes")
	_, err = PostmasterPID(old.server.PGData)
	assert.Error(t, err, "the old leader's PostgreSQL stopped with its Patroni (no postmaster.pid left)")

	// Restarted, the old leader rejoins as a replica and catches up.
	c.start(old)
	waitFor(t, old.name+" rejoins as a replica with the new row", 60*time.Second, func() error {
		if old.patroni.exited() {
			t.Fatalf("patroni %s exited: %v", old.name, old.patroni.err)
		}
		st := StatusOf(context.Background(), old.rest, old.server.PGData, old.name, false)
		if st.Role != sdk.RoleReplica || !st.Ready {
			return fmt.Errorf("%s ready=%t (%s)", st.Role, st.Ready, st.Message)
		}
		out, err := c.psql(old, "SELECT count(*) FROM pgdock_t")
		if err != nil {
			return err
		}
		if out != "101" {
			return fmt.Errorf("%s rows", out)
		}
		return nil
	})
}

// waitFormed waits for one ready leader and two ready, streaming replicas.
func (c *cluster) waitFormed() *node {
	t := c.t
	var leader *node
	waitFor(t, "one leader and two streaming replicas", 120*time.Second, func() error {
		for _, n := range c.nodes {
			if n.patroni.exited() {
				t.Fatalf("patroni %s exited: %v", n.name, n.patroni.err)
			}
		}
		l, err := c.leader()
		if err != nil {
			return err
		}
		leader = l
		for _, n := range c.nodes {
			if n == l {
				continue
			}
			if st := StatusOf(context.Background(), n.rest, n.server.PGData, n.name, false); st.Role != sdk.RoleReplica || !st.Ready {
				return fmt.Errorf("%s: %s ready=%t (%s)", n.name, st.Role, st.Ready, st.Message)
			}
		}
		out, err := c.psql(l, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
		if err != nil {
			return err
		}
		if out != strconv.Itoa(len(c.nodes)-1) {
			return fmt.Errorf("%s streaming replicas on %s", out, l.name)
		}
		return nil
	})
	return leader
}

// write inserts id through libpq's multi-host failover to whichever node
// accepts writes; nil means PostgreSQL acknowledged the commit.
func (c *cluster) write(id int) error {
	var hosts, ports []string
	for _, n := range c.nodes {
		hosts, ports = append(hosts, "127.0.0.1"), append(ports, strconv.Itoa(n.pgport))
	}
	dsn := "host=" + strings.Join(hosts, ",") + " port=" + strings.Join(ports, ",") +
		" user=postgres dbname=postgres target_session_attrs=read-write connect_timeout=2"
	cmd := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn,
		"-c", "INSERT INTO pgdock_w VALUES ("+strconv.Itoa(id)+")")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "PGPASSWORD=" + clusterSuperPassword}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// TestClusterKill9SyncNoLostWrites: with synchronous mode, kill -9 of the
// leader's Patroni (then of its postmaster, which Patroni runs in a session
// of its own, as the entrypoint does when its mode child dies) fails over
// to the synchronous standby, and every acknowledged write is there.
func TestClusterKill9SyncNoLostWrites(t *testing.T) {
	c := newCluster(t, 3, map[string]string{EnvSyncMode: "true"})
	for _, n := range c.nodes {
		c.start(n)
	}
	leader := c.waitFormed()
	_, err := c.psql(leader, "CREATE TABLE pgdock_w(id int PRIMARY KEY)")
	require.NoError(t, err)
	waitFor(t, "a synchronous standby", 30*time.Second, func() error {
		out, err := c.psql(leader, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
		if err != nil {
			return err
		}
		if out != "1" {
			return fmt.Errorf("%s synchronous standbys", out)
		}
		return nil
	})

	// A writer that keeps writing through the failover.
	stop := make(chan struct{})
	done := make(chan struct{})
	var (
		mu       sync.Mutex
		acked    []int
		attempts int
	)
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	go func() {
		defer close(done)
		for id := 1; ; id++ {
			select {
			case <-stop:
				return
			default:
			}
			err := c.write(id)
			mu.Lock()
			attempts++
			if err == nil {
				acked = append(acked, id)
			}
			mu.Unlock()
			if err != nil {
				time.Sleep(100 * time.Millisecond) // pace retries while no node accepts writes
			}
		}
	}()
	waitFor(t, "writes before the failover", 30*time.Second, func() error {
		if n := ackedCount(); n < 20 {
			return fmt.Errorf("%d writes acknowledged", n)
		}
		return nil
	})

	pid, err := PostmasterPID(leader.server.PGData)
	require.NoError(t, err)
	kill := time.Now()
	require.NoError(t, leader.patroni.cmd.Process.Signal(syscall.SIGKILL))
	<-leader.patroni.done
	_ = syscall.Kill(-leader.patroni.cmd.Process.Pid, syscall.SIGKILL)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL), "postmaster %d of %s", pid, leader.name)

	var newLeader *node
	waitFor(t, "a new leader after kill -9", time.Duration(3*clusterTTL)*time.Second, func() error {
		l, err := c.leader()
		if err != nil {
			return err
		}
		newLeader = l
		return nil
	})
	t.Logf("failover after kill -9 of the leader's patroni and postmaster: new leader %s ready %s after the kill",
		newLeader.name, time.Since(kill).Round(10*time.Millisecond))
	before := ackedCount()
	waitFor(t, "writes on the new leader", 30*time.Second, func() error {
		if n := ackedCount(); n < before+20 {
			return fmt.Errorf("%d writes acknowledged since the failover", n-before)
		}
		return nil
	})
	close(stop)
	<-done

	out, err := c.psql(newLeader, "SELECT id FROM pgdock_w ORDER BY id")
	require.NoError(t, err)
	present := map[int]bool{}
	for _, l := range strings.Fields(out) {
		id, err := strconv.Atoi(l)
		require.NoError(t, err)
		present[id] = true
	}
	var lost []int
	for _, id := range acked {
		if !present[id] {
			lost = append(lost, id)
		}
	}
	t.Logf("writes: %d attempted, %d acknowledged, %d acknowledged but lost", attempts, len(acked), len(lost))
	assert.Empty(t, lost, "acknowledged writes missing on the new leader")

	// The killed leader, restarted, rejoins as a replica (crash recovery,
	// pg_rewind when its timeline diverged) and holds every row.
	total, err := c.psql(newLeader, "SELECT count(*) FROM pgdock_w")
	require.NoError(t, err)
	c.start(leader)
	waitFor(t, leader.name+" rejoins as a replica after kill -9", 90*time.Second, func() error {
		if leader.patroni.exited() {
			t.Fatalf("patroni %s exited: %v", leader.name, leader.patroni.err)
		}
		st := StatusOf(context.Background(), leader.rest, leader.server.PGData, leader.name, false)
		if st.Role != sdk.RoleReplica || !st.Ready {
			return fmt.Errorf("%s ready=%t (%s)", st.Role, st.Ready, st.Message)
		}
		out, err := c.psql(leader, "SELECT count(*) FROM pgdock_w")
		if err != nil {
			return err
		}
		if out != total {
			return fmt.Errorf("%s rows, the leader has %s", out, total)
		}
		return nil
	})
}

// TestClusterETCDOutage: Patroni 3's documented behaviour without its DCS
// (failsafe_mode off): the leader cannot renew its key and demotes itself
// to a read-only replica after the ttl, so no member accepts writes; the
// health details say so. With etcd back, a leader is elected again.
func TestClusterETCDOutage(t *testing.T) {
	c := newCluster(t, 2, nil)
	for _, n := range c.nodes {
		c.start(n)
	}
	leader := c.waitFormed()
	stopped := time.Now()
	require.True(t, c.etcd.stop(syscall.SIGKILL, 10*time.Second))
	waitFor(t, "the leader demotes itself without etcd", time.Duration(3*clusterTTL)*time.Second, func() error {
		if _, err := c.leader(); err == nil {
			return errors.New("a primary still runs")
		}
		out, err := c.psql(leader, "SELECT pg_is_in_recovery()")
		if err != nil {
			return err
		}
		if out != "t" {
			return fmt.Errorf("pg_is_in_recovery on the old leader: %s", out)
		}
		return nil
	})
	t.Logf("etcd down: no primary %s after etcd stopped (ttl %d s)", time.Since(stopped).Round(100*time.Millisecond), clusterTTL)
	// Patroni demotes by restarting PostgreSQL read-only: its REST API says
	// "starting" until the next HA cycle sees the replica up.
	var h sdk.Health
	waitFor(t, "Patroni reports the demoted PostgreSQL running", 15*time.Second, func() error {
		h = HealthOf(context.Background(), leader.rest, leader.name)
		if h.Details["state"] != "running" {
			return fmt.Errorf("state %q", h.Details["state"])
		}
		return nil
	})
	assert.Equal(t, "replica", h.Details["role"], "health details: %v", h.Details)
	assert.Equal(t, "running", h.Details["state"], "PostgreSQL keeps running read-only: %v", h.Details)

	back := time.Now()
	c.startEtcd()
	waitFor(t, "a leader again with etcd back", 60*time.Second, func() error {
		_, err := c.leader()
		return err
	})
	t.Logf("etcd back: a primary again %s after etcd restarted", time.Since(back).Round(100*time.Millisecond))
}
