package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The Patroni suite: three pgdock-entrypoint processes with
// PATRONI_ENABLE=true on loopback ports and one real etcd 3 member, started
// by the bench (as entrypoint/integration/patroni_test.go and
// plugins/patroni/cluster_test.go do). Every run forms a new cluster (a new
// scope, fresh PGDATAs), measures the time to a healthy three-node cluster,
// fails over once by SIGTERM of the leader's entrypoint, lets the old leader
// rejoin, fails over once more by kill -9 of the new leader's Patroni, and
// counts acknowledged writes lost through both failovers (synchronous mode
// on, a writer inserting through libpq's multi-host failover all along).

// patroniTiming is one set of Patroni's DCS timings.
type patroniTiming struct {
	name                  string
	ttl, loopWait, retryS int // 0: the plugin's default, which is Patroni's
}

var (
	patroniDefaults = patroniTiming{name: "Patroni defaults (ttl 30, loop_wait 10, retry_timeout 10)"}
	patroniTuned    = patroniTiming{name: "tuned (ttl 10, loop_wait 2, retry_timeout 4)", ttl: 10, loopWait: 2, retryS: 4}
)

// Patroni suite constants.
const (
	patroniNodes         = 3
	patroniPoll          = 50 * time.Millisecond // REST polls while waiting for a leader
	patroniHealthyLimit  = 3 * time.Minute
	patroniRejoinLimit   = 3 * time.Minute
	patroniFailoverLimit = 90 * time.Second      // 3 ttl of Patroni's default 30 s
	patroniWriterPause   = 20 * time.Millisecond // between acknowledged writes
	patroniWritesAfter   = 10                    // acknowledged writes on the new leader before the count
	unitS                = "s"
	unitWrites           = "writes"
)

// patroniNode is one pgdock-entrypoint of the cluster.
type patroniNode struct {
	name   string
	sb     *sandbox
	rest   int
	extra  map[string]string
	e      *entrypointRun
	starts int
}

// patroniCluster is one run's cluster.
type patroniCluster struct {
	scope    string
	r        *rig
	nodes    []*patroniNode
	http     *http.Client
	password string
}

// patroniRun is what one cluster run measured.
type patroniRun struct {
	healthy, firstLeader           time.Duration
	sigterm, sigtermWrite, sigExit time.Duration
	rejoin                         time.Duration
	kill9, kill9Write              time.Duration
	attempted, acked, lost         int
}

// patroni runs the Patroni suite: runs clusters per timing, interleaved.
func (r *rig) patroni(ctx context.Context) []Measure {
	n := r.cfg.PatroniRuns
	specs := patroniSpecs()
	etcdBin, err := lookTool("etcd", "etcd-server")
	if err == nil {
		_, err = lookTool("patroni", "patroni")
	}
	if err == nil {
		_, err = os.Stat(filepath.Join(r.pluginDir, "pgdock-plugin-patroni"))
		if err != nil {
			err = fmt.Errorf("%w (the patroni plugin comes from `make build`)", err)
		}
	}
	if err != nil {
		return failAll(specs, err)
	}
	etcdSB, err := r.newSandbox("etcd")
	if err != nil {
		return failAll(specs, err)
	}
	defer r.closeSandbox(etcdSB)
	etcd, err := r.startEtcd(ctx, etcdSB, etcdBin)
	if err != nil {
		return failAll(specs, err)
	}
	defer etcd.kill()

	type result struct {
		healthy, firstLeader, sigterm, sigtermWrite, sigExit, rejoin, kill9, kill9Write *series
	}
	newResult := func(t patroniTiming) *result {
		return &result{
			healthy: newSeries("start of 3 entrypoints -> leader + 2 streaming replicas, all healthy; " + t.name), firstLeader: newSeries(""),
			sigterm: newSeries("SIGTERM to the leader's entrypoint -> a new leader running; " + t.name), sigtermWrite: newSeries(""), sigExit: newSeries(""),
			rejoin: newSeries("old leader's entrypoint started again -> replica running; " + t.name),
			kill9:  newSeries("kill -9 of the leader's Patroni -> a new leader running; " + t.name), kill9Write: newSeries(""),
		}
	}
	def, tun := newResult(patroniDefaults), newResult(patroniTuned)
	lost := newSeries("acknowledged writes missing on the new leader, per run (both failovers)")
	var attempted, acked int
	run := func(t patroniTiming, res *result) func() error {
		return func() error {
			pr, err := r.patroniOnce(ctx, etcd, t)
			if err != nil {
				return err
			}
			res.healthy.add(pr.healthy.Seconds())
			res.healthy.addPartValue("first leader running", pr.firstLeader.Seconds())
			res.sigterm.add(pr.sigterm.Seconds())
			res.sigterm.addPartValue("SIGTERM -> first write acknowledged by the new leader", pr.sigtermWrite.Seconds())
			res.sigterm.addPartValue("SIGTERM -> old leader's entrypoint exited 0", pr.sigExit.Seconds())
			res.rejoin.add(pr.rejoin.Seconds())
			res.kill9.add(pr.kill9.Seconds())
			res.kill9.addPartValue("kill -9 -> first write acknowledged by the new leader", pr.kill9Write.Seconds())
			lost.add(float64(pr.lost))
			attempted += pr.attempted
			acked += pr.acked
			return nil
		}
	}
	sides := []side{
		{name: "defaults", s: def.healthy, run: run(patroniDefaults, def)},
		{name: "tuned", s: tun.healthy, run: run(patroniTuned, tun)},
	}
	if err := interleave(n, sides, ctx.Err, func(round int, name string, err error) {
		if err != nil {
			r.progress("patroni cluster %d/%d %s: FAILED: %v", round, n, name, err)
			return
		}
		s := sidesSeries(sides, name)
		r.progress("patroni cluster %d/%d %s: healthy after %s", round, n, name, lastSample(s, unitS))
	}); err != nil {
		return nil
	}
	// A failed run fails every series of its timing (they are one run).
	for _, res := range []*result{def, tun} {
		for _, s := range []*series{res.sigterm, res.rejoin, res.kill9} {
			if res.healthy.err != nil {
				s.fail(res.healthy.err)
			}
		}
		if res.healthy.err != nil {
			lost.fail(res.healthy.err)
		}
	}
	out := []Measure{
		specs[0].measure(def.healthy, nil),
		specs[1].measure(tun.healthy, nil),
		specs[2].measure(tun.sigterm, def.sigterm),
		specs[3].measure(tun.kill9, def.kill9),
		specs[4].measure(tun.rejoin, def.rejoin),
	}
	lm := specs[5]
	lm.note = fmt.Sprintf("%d writes attempted, %d acknowledged over all runs; one psql INSERT per write through host=<3 nodes> target_session_attrs=read-write; %s",
		attempted, acked, lm.note)
	out = append(out, lm.measure(lost, nil))
	return out
}

func patroniSpecs() []spec {
	sec := func(v float64) *Goal {
		return &Goal{Text: fmt.Sprintf("<= %g s", v), Basis: BasisPgdockMed, Limit: v}
	}
	return []spec{
		{id: "patroni_healthy_default", name: "Patroni: start -> healthy 3-node cluster, Patroni defaults", unit: unitS, goal: sec(15), showP95: true,
			note: "three pgdock-entrypoint processes started at once on an empty PGDATA each, one etcd; healthy = one leader and two replicas running (REST /patroni), 2 streaming in pg_stat_replication, pgdock-healthcheck readiness 0 on all three"},
		{id: "patroni_healthy_tuned", name: "Patroni: start -> healthy 3-node cluster, ttl 10 / loop_wait 2", unit: unitS, goal: sec(15), showP95: true},
		{id: "patroni_failover_sigterm", name: "Patroni failover after SIGTERM of the leader's entrypoint, tuned vs defaults", unit: unitS, goal: sec(5), diffShown: DiffShownAbs, showP95: true,
			note: "signal -> another node's REST /patroni says master/primary and running (polled every 50 ms); pgdock column: ttl 10, loop_wait 2, retry_timeout 4; reference: Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10); synchronous mode on"},
		{id: "patroni_failover_kill9", name: "Patroni failover after kill -9 of the leader's Patroni, tuned vs defaults", unit: unitS, diffShown: DiffShownAbs, showP95: true,
			note: "SIGKILL to the leader's Patroni (the entrypoint's mode child; the entrypoint then stops its postmaster and exits non-zero) -> another node running as leader; the leader key must expire (ttl), so this follows ttl"},
		{id: "patroni_rejoin", name: "Patroni: old leader restarted -> running replica, tuned vs defaults", unit: unitS, diffShown: DiffShownAbs, showP95: true},
		{id: "patroni_lost_writes", name: "Patroni: acknowledged writes lost in failover (synchronous mode)", unit: unitWrites, goal: &Goal{Text: "0", Basis: BasisPgdockMax, Limit: 0},
			note: "PATRONI_SYNCHRONOUS_MODE=true; each run's count covers both failovers; the cell shows the median and the largest run"},
	}
}

func failAll(specs []spec, err error) []Measure {
	out := make([]Measure, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.failed(err))
	}
	return out
}

// lookTool finds a program on PATH (naming its Debian package when missing).
func lookTool(name, pkg string) (string, error) {
	for _, d := range []string{"/usr/bin", "/usr/local/bin", "/bin"} {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (Debian package %s; `make deps` installs it)", name, pkg)
}

// etcdProc is the etcd member of the suite.
type etcdProc struct {
	*proc
	addr string // host:port of the client URL
	log  string // its output
}

// startEtcd runs one etcd member on loopback ports. Its environment is built
// from scratch: etcd reads ETCD_*.
func (r *rig) startEtcd(ctx context.Context, sb *sandbox, bin string) (*etcdProc, error) {
	cport, err := freePort()
	if err != nil {
		return nil, err
	}
	pport, err := freePort()
	if err != nil {
		return nil, err
	}
	client := "127.0.0.1:" + strconv.Itoa(cport)
	peer := "http://127.0.0.1:" + strconv.Itoa(pport)
	out, err := sb.logFile("etcd.log")
	if err != nil {
		return nil, err
	}
	defer out.Close()
	p, _, err := startProc("etcd", procSpec{Path: bin, Dir: sb.root, Out: out, Env: []string{"PATH=/usr/bin:/bin"},
		Args: []string{"--name", "e1", "--data-dir", filepath.Join(sb.root, "etcd"),
			"--listen-client-urls", "http://" + client, "--advertise-client-urls", "http://" + client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "e1=" + peer}})
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := hc.Get("http://" + client + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &etcdProc{proc: p, addr: client, log: filepath.Join(sb.logDir, "etcd.log")}, nil
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		if p.exited() || time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("etcd not healthy within 30 s (%v); its log:\n%s", err, tailFile(filepath.Join(sb.logDir, "etcd.log"), 20))
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			p.kill()
			return nil, err
		}
	}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a password: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// newPatroniCluster creates three nodes' sandboxes and environments.
func (r *rig) newPatroniCluster(etcd string, t patroniTiming) (*patroniCluster, error) {
	pw, err := randomHex(12)
	if err != nil {
		return nil, err
	}
	repl, err := randomHex(12)
	if err != nil {
		return nil, err
	}
	r.seq++
	scope := fmt.Sprintf("bench-%d-%d", os.Getpid(), r.seq)
	c := &patroniCluster{r: r, password: pw, scope: scope,
		http: &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}}
	path := filepath.Dir(r.entrypoint) + ":" + envValue(r.baseEnv, "PATH")
	for i := 1; i <= patroniNodes; i++ {
		sb, err := r.newSandbox("node" + strconv.Itoa(i))
		if err != nil {
			c.close()
			return nil, err
		}
		sb.password = pw
		rest, err := freePort()
		if err != nil {
			c.close()
			return nil, err
		}
		n := &patroniNode{name: "node" + strconv.Itoa(i), sb: sb, rest: rest, extra: map[string]string{
			"PATH":                      path, // Patroni's post_bootstrap calls pgdock-entrypoint
			"PATRONI_ENABLE":            "true",
			"PATRONI_SCOPE":             scope,
			"PATRONI_NAME":              "node" + strconv.Itoa(i),
			"PATRONI_REST_PORT":         strconv.Itoa(rest),
			"PATRONI_REST_CONNECT_HOST": listenAddr,
			"ETCD_HOSTS":                etcd,
			"REPLICATION_PASSWORD":      repl,
			"PATRONI_SYNCHRONOUS_MODE":  "true",
		}}
		if t.ttl > 0 {
			n.extra["PATRONI_TTL"] = strconv.Itoa(t.ttl)
			n.extra["PATRONI_LOOP_WAIT"] = strconv.Itoa(t.loopWait)
			n.extra["PATRONI_RETRY_TIMEOUT"] = strconv.Itoa(t.retryS)
		}
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// start starts a node's entrypoint (again).
func (c *patroniCluster) start(n *patroniNode) error {
	n.starts++
	e, err := c.r.startEntrypoint(n.sb, fmt.Sprintf("entrypoint-%d.log", n.starts), n.extra)
	if err != nil {
		return err
	}
	n.e = e
	return nil
}

func (n *patroniNode) running() bool { return n.e != nil && !n.e.p.exited() }

// close stops every live entrypoint and removes the sandboxes.
func (c *patroniCluster) close() {
	c.stop()
	c.remove()
}

// stop stops every live entrypoint (SIGTERM, so that Patroni stops its
// PostgreSQL); one that does not exit in time is killed.
func (c *patroniCluster) stop() {
	for _, n := range c.nodes {
		if n.running() {
			_, _ = n.e.p.signal(syscall.SIGTERM)
		}
	}
	for _, n := range c.nodes {
		if n.running() {
			if _, err := n.e.p.wait(context.Background(), stopTimeout); err != nil {
				n.e.abort()
			}
		}
	}
}

// remove removes the sandboxes (the sweep ends anything still running).
func (c *patroniCluster) remove() {
	for _, n := range c.nodes {
		_ = c.r.closeSandbox(n.sb)
	}
}

// node asks a node's REST API GET /patroni for its role and state.
func (c *patroniCluster) node(n *patroniNode) (role, state string, err error) {
	resp, err := c.http.Get("http://127.0.0.1:" + strconv.Itoa(n.rest) + "/patroni")
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var s struct{ Role, State string }
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return "", "", fmt.Errorf("GET /patroni: %w", err)
	}
	return s.Role, s.State, nil
}

// describe lists every node's process state and Patroni role, for errors.
func (c *patroniCluster) describe() string {
	var parts []string
	for _, n := range c.nodes {
		switch {
		case n.e == nil:
			parts = append(parts, n.name+" not started")
		case n.e.p.exited():
			parts = append(parts, fmt.Sprintf("%s exited (%v)", n.name, n.e.p.err))
		default:
			role, state, err := c.node(n)
			if err != nil {
				parts = append(parts, fmt.Sprintf("%s REST: %v", n.name, err))
			} else {
				parts = append(parts, fmt.Sprintf("%s %s %s", n.name, role, state))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// keepLogs copies the nodes' logs (entrypoint and Patroni output) and
// etcd's to dir/<scope>/ after a failed run, so that it can be read after
// the sandboxes are gone.
func (c *patroniCluster) keepLogs(dir, scope string, etcdLog string) string {
	if dir == "" {
		return ""
	}
	dst := filepath.Join(dir, scope)
	for _, n := range c.nodes {
		_ = copyTree(n.sb.logDir, filepath.Join(dst, n.name))
	}
	if data, err := os.ReadFile(etcdLog); err == nil {
		_ = os.WriteFile(filepath.Join(dst, "etcd.log"), data, 0o644)
	}
	return dst
}

// copyTree copies the regular files of src (one level) into dst.
func copyTree(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// waitSyncStandby waits until the leader's PostgreSQL has one synchronous
// standby and Patroni has recorded it in etcd (its /sync key, on the next HA
// cycle, up to loop_wait later): only that member may be promoted.
func (c *patroniCluster) waitSyncStandby(ctx context.Context, leader *patroniNode) error {
	if err := waitUntil(ctx, 60*time.Second, func() error {
		out, err := c.psql(ctx, c.dsn(leader), "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")
		if err == nil && out != "1" {
			err = fmt.Errorf("%s synchronous standbys", out)
		}
		return err
	}); err != nil {
		return fmt.Errorf("synchronous standby: %w", err)
	}
	if err := waitUntil(ctx, 60*time.Second, func() error { return c.syncStandbyKnown(leader) }); err != nil {
		return fmt.Errorf("a synchronous standby in Patroni's cluster view: %w", err)
	}
	return nil
}

// syncStandbyKnown is nil once the leader's GET /cluster lists exactly
// one running member as sync_standby.
func (c *patroniCluster) syncStandbyKnown(leader *patroniNode) error {
	resp, err := c.http.Get("http://127.0.0.1:" + strconv.Itoa(leader.rest) + "/cluster")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var cl struct {
		Members []struct{ Name, Role, State string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&cl); err != nil {
		return fmt.Errorf("GET /cluster: %w", err)
	}
	var sync []string
	for _, m := range cl.Members {
		if m.Role == "sync_standby" && (m.State == "running" || m.State == "streaming") {
			sync = append(sync, m.Name)
		}
	}
	if len(sync) != 1 {
		return fmt.Errorf("GET /cluster: running sync_standby members %v", sync)
	}
	return nil
}

func isLeaderRole(role string) bool { return role == "master" || role == "primary" }

// leader returns the one live node that runs as leader, or nil.
func (c *patroniCluster) leader(except *patroniNode) (*patroniNode, error) {
	var l *patroniNode
	for _, n := range c.nodes {
		if n == except || !n.running() {
			continue
		}
		role, state, err := c.node(n)
		if err != nil || state != "running" || !isLeaderRole(role) {
			continue
		}
		if l != nil {
			return nil, fmt.Errorf("two leaders: %s and %s", l.name, n.name)
		}
		l = n
	}
	return l, nil
}

// psql runs one statement on a node over TCP as the superuser and returns
// its unaligned output.
func (c *patroniCluster) psql(ctx context.Context, dsn, sql string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return runOutput(ctx, filepath.Join(c.r.pg.Dir, "psql"), append(c.r.baseEnv, "PGPASSWORD="+c.password, "PGCONNECT_TIMEOUT=2"),
		"-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql)
}

func (c *patroniCluster) dsn(nodes ...*patroniNode) string {
	var hosts, ports []string
	for _, n := range nodes {
		hosts, ports = append(hosts, listenAddr), append(ports, strconv.Itoa(n.sb.port))
	}
	return "host=" + strings.Join(hosts, ",") + " port=" + strings.Join(ports, ",") +
		" user=" + serverUser + " dbname=postgres target_session_attrs=read-write connect_timeout=2"
}

// healthy reports nil once one node leads, the other two are running
// replicas streaming from it and pgdock-healthcheck readiness says 0 on all.
func (c *patroniCluster) healthy(ctx context.Context) (*patroniNode, error) {
	l, err := c.leader(nil)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errors.New("no leader")
	}
	for _, n := range c.nodes {
		if n == l {
			continue
		}
		if role, state, err := c.node(n); err != nil || role != "replica" || state != "running" {
			return l, fmt.Errorf("%s: role %q state %q %v", n.name, role, state, err)
		}
	}
	out, err := c.psql(ctx, c.dsn(l), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
	if err != nil {
		return l, err
	}
	if out != strconv.Itoa(patroniNodes-1) {
		return l, fmt.Errorf("%s streaming replicas", out)
	}
	for _, n := range c.nodes {
		if _, err := runOutput(ctx, c.r.healthcheck, c.r.baseEnv, "--state-dir", n.sb.state, "readiness"); err != nil {
			return l, fmt.Errorf("%s: pgdock-healthcheck readiness: %w", n.name, err)
		}
	}
	return l, nil
}

// exitedEarly names a node whose entrypoint exited when it should run.
func (c *patroniCluster) exitedEarly() error {
	for _, n := range c.nodes {
		if n.e != nil && n.e.p.exited() {
			return fmt.Errorf("%s: pgdock-entrypoint exited (%v); its last output:\n%s", n.name, n.e.p.err, n.e.watch.tail())
		}
	}
	return nil
}

// waitNewLeader polls the nodes other than old until one leads, and
// returns it and the time since from.
func (c *patroniCluster) waitNewLeader(ctx context.Context, old *patroniNode, from time.Time, limit time.Duration) (*patroniNode, time.Duration, error) {
	for {
		l, err := c.leader(old)
		if err == nil && l != nil {
			return l, time.Since(from), nil
		}
		if time.Since(from) > limit {
			return nil, 0, fmt.Errorf("no new leader within %s (%v); nodes: %s", limit, err, c.describe())
		}
		if err := sleepCtx(ctx, patroniPoll); err != nil {
			return nil, 0, err
		}
	}
}

// patroniOnce forms one cluster and measures it.
func (r *rig) patroniOnce(ctx context.Context, etcd *etcdProc, t patroniTiming) (res patroniRun, err error) {
	c, err := r.newPatroniCluster(etcd.addr, t)
	if err != nil {
		return res, err
	}
	defer func() {
		c.stop()
		if err != nil {
			if dst := c.keepLogs(r.cfg.KeepLogs, c.scope, etcd.log); dst != "" {
				err = fmt.Errorf("%w (logs kept in %s)", err, dst)
			}
		}
		c.remove()
	}()

	start := time.Now()
	for _, n := range c.nodes {
		if err := c.start(n); err != nil {
			return res, err
		}
	}
	var leader *patroniNode
	for {
		if err := c.exitedEarly(); err != nil {
			return res, err
		}
		if res.firstLeader == 0 {
			if l, _ := c.leader(nil); l != nil {
				res.firstLeader = time.Since(start)
			}
		}
		l, herr := c.healthy(ctx)
		if herr == nil {
			leader = l
			res.healthy = time.Since(start)
			break
		}
		if time.Since(start) > patroniHealthyLimit {
			return res, fmt.Errorf("cluster not healthy within %s: %v", patroniHealthyLimit, herr)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return res, err
		}
	}

	// The writer: synchronous mode needs a synchronous standby first.
	if _, err := c.psql(ctx, c.dsn(leader), "CREATE TABLE bench_w(id int PRIMARY KEY)"); err != nil {
		return res, fmt.Errorf("create the writer's table: %w", err)
	}
	if err := c.waitSyncStandby(ctx, leader); err != nil {
		return res, err
	}
	w := c.startWriter(ctx)
	defer w.stop()
	if err := w.waitAcked(ctx, w.count()+patroniWritesAfter, 60*time.Second); err != nil {
		return res, fmt.Errorf("writes before the first failover: %w", err)
	}

	// Failover 1: SIGTERM to the leader's entrypoint.
	old := leader
	sent, err := old.e.p.signal(syscall.SIGTERM)
	if err != nil {
		return res, err
	}
	leader, res.sigterm, err = c.waitNewLeader(ctx, old, sent, patroniFailoverLimit)
	if err != nil {
		return res, fmt.Errorf("after SIGTERM of %s's entrypoint: %w", old.name, err)
	}
	if res.sigtermWrite, err = w.firstAckAfter(ctx, sent, old.sb.port, 60*time.Second); err != nil {
		return res, fmt.Errorf("writes after the SIGTERM failover: %w", err)
	}
	end, err := old.e.p.wait(ctx, stopTimeout)
	if err != nil {
		return res, err
	}
	if err := old.e.p.exitError(); err != nil {
		return res, fmt.Errorf("old leader after SIGTERM: %w; its last output:\n%s", err, old.e.watch.tail())
	}
	res.sigExit = end.Sub(sent)

	// The old leader rejoins as a replica; wait for a synchronous standby again.
	restart := time.Now()
	if err := c.start(old); err != nil {
		return res, err
	}
	if err := waitUntil(ctx, patroniRejoinLimit, func() error {
		if old.e.p.exited() {
			return fmt.Errorf("%s exited: %v\n%s", old.name, old.e.p.err, old.e.watch.tail())
		}
		role, state, err := c.node(old)
		if err == nil && (role != "replica" || state != "running") {
			err = fmt.Errorf("role %q state %q", role, state)
		}
		return err
	}); err != nil {
		return res, fmt.Errorf("%s rejoining: %w", old.name, err)
	}
	res.rejoin = time.Since(restart)
	// The kill comes once etcd names a synchronous standby again, so that it
	// measures a steady cluster, not the window after a rejoin.
	if err := c.waitSyncStandby(ctx, leader); err != nil {
		return res, fmt.Errorf("after the rejoin: %w", err)
	}
	if err := w.waitAcked(ctx, w.count()+patroniWritesAfter, 60*time.Second); err != nil {
		return res, fmt.Errorf("writes before the second failover: %w", err)
	}

	// Failover 2: kill -9 of the leader's Patroni (the entrypoint's mode child).
	pid, err := modeChildPID(leader.sb)
	if err != nil {
		return res, fmt.Errorf("%s: %w", leader.name, err)
	}
	old = leader
	sent = time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return res, fmt.Errorf("kill -9 Patroni (pid %d) of %s: %w", pid, old.name, err)
	}
	leader, res.kill9, err = c.waitNewLeader(ctx, old, sent, patroniFailoverLimit)
	if err != nil {
		return res, fmt.Errorf("after kill -9 of %s's Patroni: %w", old.name, err)
	}
	if res.kill9Write, err = w.firstAckAfter(ctx, sent, old.sb.port, 60*time.Second); err != nil {
		return res, fmt.Errorf("writes after the kill -9 failover: %w", err)
	}
	if err := w.waitAcked(ctx, w.count()+patroniWritesAfter, 60*time.Second); err != nil {
		return res, fmt.Errorf("writes on the new leader: %w", err)
	}
	w.stop()

	// Every acknowledged write must be on the new leader.
	out, err := c.psql(ctx, c.dsn(leader), "SELECT id FROM bench_w ORDER BY id")
	if err != nil {
		return res, fmt.Errorf("read the writes back: %w", err)
	}
	present := map[int]bool{}
	for _, f := range strings.Fields(out) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return res, fmt.Errorf("read the writes back: %w", err)
		}
		present[id] = true
	}
	res.attempted, res.acked = w.result()
	for _, id := range w.ackedIDs() {
		if !present[id] {
			res.lost++
		}
	}
	return res, nil
}

// modeChildPID is the mode child's pid from the node's state file.
func modeChildPID(sb *sandbox) (int, error) {
	data, err := os.ReadFile(filepath.Join(sb.state, stateFileName))
	if err != nil {
		return 0, fmt.Errorf("read state file: %w", err)
	}
	var st struct {
		Mode         string `json:"mode"`
		ModeChildPID int    `json:"mode_child_pid"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, fmt.Errorf("parse state file: %w", err)
	}
	if st.Mode != "patroni" || st.ModeChildPID <= 0 {
		return 0, fmt.Errorf("state file: mode %q, mode child pid %d (want patroni and a pid)", st.Mode, st.ModeChildPID)
	}
	return st.ModeChildPID, nil
}

// waitUntil polls cond every 200 ms until it returns nil, at most d.
func waitUntil(ctx context.Context, d time.Duration, cond func() error) error {
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Since(start) > d {
			return fmt.Errorf("not within %s: %w", d, err)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
