package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// PatroniCompose is the Patroni stack's compose file.
const PatroniCompose = "compose/patroni/compose.yaml"

// Metrics of the patroni scenario.
const (
	// MetricCluster: the last node's docker start -> one leader and two
	// replicas (pgdock-healthcheck leader/replica).
	MetricCluster = "cluster"
	// MetricFailover: docker stop of the leader called, or the leader cut
	// off the network -> another node answers `pgdock-healthcheck leader`
	// with exit 0.
	MetricFailover = "failover"
	// MetricRejoin: docker start of the old leader, or its network
	// reconnected -> it answers `pgdock-healthcheck replica` with exit 0.
	MetricRejoin = "rejoin"
	// MetricDemote: the leader cut off the network -> it is no longer the
	// leader (`pgdock-healthcheck leader` fails) and its PostgreSQL is in
	// recovery (read-only).
	MetricDemote = "demote"
	// MetricWriteOutage: the writer's last acknowledged write before a
	// failover began -> its first acknowledged write after.
	MetricWriteOutage = "write-outage"
)

var (
	patroniNodes = []string{"pg1", "pg2", "pg3"}
	etcdMembers  = []string{"etcd1", "etcd2", "etcd3"}
	// planFailover is the plan's bound on a failover.
	planFailover = budget.Budget{Metric: MetricFailover, Limit: 30 * time.Second, Strict: true, Source: budget.Plan}
)

// patroniRows is how many rows the scenario writes on the first leader.
const patroniRows = 100

// patroniEnv is what the scenario adds to every node's environment:
// synchronous mode (an acknowledged commit is on a standby, so a failover
// loses none); the tuned ttl of issue 8's benchmarks (ttl 10 with the
// file's loop_wait 2 and retry_timeout 4: 2 + 2 × 4 ≤ 10) — with Patroni's
// ttl 30 a leader cut off the network keeps its key for up to 30 s, the
// whole failover budget; and wal_sender_timeout 15 s: a primary cut off the
// network cannot finish its shutdown before its walsenders give up on the
// replicas they can no longer reach (PostgreSQL's 60 s by default), so the
// isolated leader's demotion to a read-only replica takes that long.
var patroniEnv = []string{
	"PATRONI_SYNCHRONOUS_MODE=true",
	"PATRONI_TTL=10",
	"PATRONI_RETRY_TIMEOUT=4",
	"POSTGRESQL_CONFIG_WAL_SENDER_TIMEOUT=15s",
}

// Patroni brings up compose/patroni (three pgdock nodes in Patroni mode and
// three etcd members) with synchronous mode, checks the cluster forms and
// replicates, then fails over twice while a writer keeps writing: docker
// stop of the leader (the old one started again rejoins as a replica), and
// the leader cut off the network (it demotes itself; reconnected, it
// rejoins). Every write the writer saw acknowledged must be on the new
// leader after each failover.
func Patroni() Scenario {
	return Scenario{
		Name: "patroni",
		Description: "compose/patroni with synchronous mode (ttl 10): three pgdock nodes (PATRONI_ENABLE=true) and three etcd members come up healthy; one leader and two streaming replicas, one synchronous; rows written on the leader are read on both replicas. " +
			"A writer inserts through the published ports into whichever node is primary while: docker stop of the leader → a new leader (< 30 s), the old one exits 0 and, started again, rejoins as a replica; the leader cut off the network → a new leader, the isolated node demotes itself (not leader, in recovery) and, reconnected, rejoins as a replica. " +
			"After each failover every acknowledged write is on the new leader; every container stops inside the budget.",
		Budgets: []budget.Budget{
			budget.PlanStartup, budget.PlanStartup.For(MetricCluster),
			planFailover, planFailover.For(MetricDemote), planFailover.For(MetricWriteOutage),
			budget.PlanStartup.For(MetricRejoin),
			budget.PlanShutdown,
		},
		Timeout: 12 * time.Minute,
		Run:     runPatroni,
	}
}

// patroniRun is the state the steps of the scenario share.
type patroniRun struct {
	t        *T
	st       *engine.Stack
	password string
	leader   string
	replicas []string
	w        *writer
}

func runPatroni(ctx context.Context, t *T) {
	r, up, started, ok := upPatroni(ctx, t, "", []string{PatroniCompose}, nil, nil)
	if !ok {
		return
	}
	st, password := r.st, r.password
	if !r.form(ctx, up, started) {
		return
	}
	r.w = startWriter(ctx, st, password, patroniNodes)
	defer r.w.stopWriter()
	if !t.Check("the writer writes on the leader", func() error {
		return r.w.waitAckOn(ctx, r.leader, up, 30*time.Second)
	}) {
		return
	}
	if !r.stopLeader(ctx) {
		return
	}
	if !r.cutLeader(ctx) {
		return
	}
	r.w.stopWriter()
	if !t.Check("writer: no acknowledged write lost", func() error {
		acks := r.w.snapshot()
		attempts, failures, last := r.w.stats()
		if len(acks) == 0 {
			return errors.New("no write was acknowledged")
		}
		if err := verifyAcks(ctx, st, r.leader, password, acks); err != nil {
			return err
		}
		t.Env().Log.Info("patroni writer", zap.Int("acknowledged", len(acks)), zap.Int("attempts", attempts), zap.Int("failed", failures), zap.String("last_failure", last))
		if t.Env().Progress != nil {
			t.Env().Progress.Line("  info patroni: writer: %d acknowledged writes, all on the leader %s; %d of %d attempts failed (unacknowledged) during the failovers", len(acks), r.leader, failures, attempts)
		}
		return nil
	}) {
		return
	}

	r.stopAll(ctx)
}

// stopAll stops the stack as compose down does, timed: the nodes (replicas
// first, the leader last, so no needless failover), then etcd (not
// SIGKILLed).
func (r *patroniRun) stopAll(ctx context.Context) {
	t, st := r.t, r.st
	for _, s := range append(append([]string{}, r.replicas...), r.leader) {
		timedStop(ctx, t, st, s, s, budget.MetricStop)
	}
	for _, s := range etcdMembers {
		metric := budget.MetricStop + ":" + s
		t.Budget(budget.PlanShutdown.For(metric))
		timedStopNotKilled(ctx, t, st, s, s, metric)
	}
}

// upPatroni brings up the Patroni stack from files: random passwords (the
// replication one with characters a YAML renderer must quote,
// docs/patroni.md) plus env, the scenario settings patroniEnv on every
// node, then adjust (may be nil). It returns the run, when up began and
// each service's docker start; ok is false when the check "up: create and
// start the stack<what>" failed.
func upPatroni(ctx context.Context, t *T, what string, files, env []string, adjust func(*types.Project) error) (r *patroniRun, up time.Time, started map[string]time.Time, ok bool) {
	password := randomPassword()
	spec := StackSpec{
		Files: files,
		Env:   append([]string{"POSTGRES_PASSWORD=" + password, "REPLICATION_PASSWORD=rep #: '\"" + NewRunID()}, env...),
		Adjust: func(p *types.Project) error {
			for _, s := range append(append([]string{}, patroniNodes...), etcdMembers...) {
				if _, ok := p.Services[s]; !ok {
					return fmt.Errorf("no %s service in %s", s, PatroniCompose)
				}
			}
			for _, n := range patroniNodes {
				if err := composefile.SetEnv(p, n, patroniEnv...); err != nil {
					return err
				}
			}
			if adjust != nil {
				return adjust(p)
			}
			return nil
		},
	}
	up = time.Now()
	started = map[string]time.Time{} // written by Up's hooks (called one at a time), read after Up
	var st *engine.Stack
	if !t.Check("up: create and start the stack"+what, func() error {
		var err error
		st, err = t.Up(ctx, spec, engine.Hooks{
			Created: func(s string, at time.Time) { t.Mark(s, "created", at) },
			Started: func(s string, at time.Time) { t.Mark(s, "started", at); started[s] = at },
		})
		return err
	}) {
		return nil, up, nil, false
	}
	t.Span("stack", "up", up, time.Now())
	return &patroniRun{t: t, st: st, password: password}, up, started, true
}

// form checks the cluster comes up: every container healthy, one leader and
// two replicas, both streaming and one synchronous, rows replicate.
func (r *patroniRun) form(ctx context.Context, up time.Time, started map[string]time.Time) bool {
	t, st := r.t, r.st
	if !t.Check("every node and etcd member reaches healthy", func() error {
		// The plan's startup budget is per container: its docker start →
		// healthy (the Engine's create and start are not pgdock's time).
		var worst time.Duration
		for _, s := range append(append([]string{}, etcdMembers...), patroniNodes...) {
			b, err := bootPostgres(ctx, t, st, s, s, up, false)
			if err != nil {
				return err
			}
			t.Mark(s, "healthy", b.Healthy)
			t.Span(s, "start → healthy", started[s], b.Healthy)
			if d := b.Healthy.Sub(started[s]); isNode(s) && d > worst {
				worst = d
			}
		}
		t.Measure(budget.MetricHealthy, worst)
		return nil
	}) {
		return false
	}

	if !t.Check("one leader, two replicas (pgdock-healthcheck leader/replica)", func() error {
		var err error
		r.leader, r.replicas, err = waitCluster(ctx, t, st, patroniNodes, 60*time.Second)
		if err != nil {
			return err
		}
		t.Mark(r.leader, "leader", time.Now())
		var last time.Time
		for _, n := range patroniNodes {
			if started[n].After(last) {
				last = started[n]
			}
		}
		t.Span("cluster", "last node started → leader + 2 replicas", last, time.Now())
		t.Measure(MetricCluster, time.Since(last))
		return nil
	}) {
		return false
	}

	if !t.Check("leader streams to both replicas, one of them synchronous", func() error {
		return waitStreaming(ctx, st, r.leader, r.password, 2, 30*time.Second)
	}) {
		return false
	}

	return t.Check(fmt.Sprintf("%d rows written on the leader are read on both replicas", patroniRows), func() error {
		c, err := dial(ctx, st, r.leader, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "CREATE TABLE rig_patroni (id int PRIMARY KEY, node text NOT NULL)"); err != nil {
			return fmt.Errorf("create table on %s: %w", r.leader, err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE "+writerTable+" (id bigint PRIMARY KEY, node text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"); err != nil {
			return fmt.Errorf("create table on %s: %w", r.leader, err)
		}
		if _, err := c.Exec(ctx, "INSERT INTO rig_patroni SELECT g, $1 FROM generate_series(1, $2::int) g", r.leader, patroniRows); err != nil {
			return fmt.Errorf("insert on %s: %w", r.leader, err)
		}
		for _, rep := range r.replicas {
			if err := waitRows(ctx, st, rep, r.password, patroniRows); err != nil {
				return err
			}
		}
		return nil
	})
}

// stopLeader: docker stop of the leader while the writer writes → a new
// leader with every acknowledged write; the old leader started again
// rejoins as a replica.
func (r *patroniRun) stopLeader(ctx context.Context) bool {
	t, st := r.t, r.st
	old := r.leader
	newLeader, begin, ok := stopLeaderFailover(ctx, t, st, old, r.replicas)
	if !ok {
		return false
	}
	survivor := otherThan(r.replicas, newLeader)
	if !r.writesSurvive(ctx, "docker stop", newLeader, begin) {
		return false
	}

	if !t.Check("the new leader has every row and takes writes", func() error {
		c, err := dial(ctx, st, newLeader, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		n, err := queryString(ctx, c, "SELECT count(*)::text FROM rig_patroni")
		if err != nil {
			return err
		}
		if n != fmt.Sprint(patroniRows) {
			return fmt.Errorf("%s rows on the new leader %s, want %d", n, newLeader, patroniRows)
		}
		_, err = c.Exec(ctx, "INSERT INTO rig_patroni SELECT g, $1 FROM generate_series($2::int, $3::int) g", newLeader, patroniRows+1, patroniRows+10)
		return err
	}) {
		return false
	}

	if !t.Check("the old leader started again rejoins as a replica and catches up", func() error {
		begin := time.Now()
		if err := st.Start(ctx, old); err != nil {
			return err
		}
		if err := waitRole(ctx, st, old, "replica", 90*time.Second); err != nil {
			return withLogs(ctx, st, old, err)
		}
		at := time.Now()
		t.Span(old, "start → replica", begin, at)
		t.Measure(MetricRejoin, at.Sub(begin))
		for _, s := range []string{old, survivor} {
			if err := waitRows(ctx, st, s, r.password, patroniRows+10); err != nil {
				return err
			}
		}
		return waitStreaming(ctx, st, newLeader, r.password, 2, 30*time.Second)
	}) {
		return false
	}
	r.leader, r.replicas = newLeader, []string{old, survivor}
	return true
}

// stopLeaderFailover is the check "docker stop of the leader → a new
// leader; the old one exits 0": it stops old, waits for one of replicas
// to lead, and measures the failover and the stop. It returns the new
// leader and when the stop began; ok is false when the check failed.
func stopLeaderFailover(ctx context.Context, t *T, st *engine.Stack, old string, replicas []string) (newLeader string, begin time.Time, ok bool) {
	ok = t.Check("docker stop of the leader → a new leader; the old one exits 0", func() error {
		begin = time.Now()
		type stopped struct {
			r   engine.StopResult
			err error
		}
		done := make(chan stopped, 1)
		go func() {
			res, err := st.Stop(ctx, old, 0)
			done <- stopped{res, err}
		}()
		var ferr error
		newLeader, ferr = waitLeader(ctx, st, replicas, planFailover.Limit+30*time.Second)
		if ferr == nil {
			at := time.Now()
			t.Span("cluster", "failover (docker stop)", begin, at)
			t.Mark(newLeader, "leader", at)
			t.Measure(MetricFailover, at.Sub(begin))
		}
		s := <-done
		if s.err != nil {
			return errors.Join(ferr, s.err)
		}
		t.Span(old, "docker stop", begin, begin.Add(s.r.Took))
		t.Measure(budget.MetricStop, s.r.Took)
		if s.r.ExitCode != 0 {
			return errors.Join(ferr, withLogs(ctx, st, old, fmt.Errorf("%s exited %d after %s (137: the Engine had to SIGKILL)", old, s.r.ExitCode, s.r.Took.Round(time.Millisecond))))
		}
		return ferr
	})
	return newLeader, begin, ok
}

// otherThan returns the first of nodes that is not x (the replica that
// was not promoted).
func otherThan(nodes []string, x string) string {
	for _, n := range nodes {
		if n != x {
			return n
		}
	}
	return ""
}

// cutLeader: the leader cut off the network while the writer writes → a
// new leader with every acknowledged write, the isolated node demotes
// itself; reconnected, it rejoins as a replica.
func (r *patroniRun) cutLeader(ctx context.Context) bool {
	t, st := r.t, r.st
	iso := r.leader
	nets := st.Networks(iso)
	var newLeader string
	var begin time.Time
	if !t.Check("leader cut off the network → a new leader; the isolated node demotes itself", func() error {
		if len(nets) == 0 {
			return fmt.Errorf("%s is on no network", iso)
		}
		begin = time.Now()
		for _, n := range nets {
			if err := st.Disconnect(ctx, iso, n); err != nil {
				return err
			}
		}
		t.Mark(iso, "cut off", begin)
		var (
			wg                sync.WaitGroup
			ferr, derr        error
			promoted, demoted time.Time
		)
		wg.Go(func() {
			newLeader, ferr = waitLeader(ctx, st, r.replicas, planFailover.Limit+30*time.Second)
			promoted = time.Now()
		})
		wg.Go(func() {
			derr = waitDemoted(ctx, st, iso, false, planFailover.Limit+30*time.Second)
			demoted = time.Now()
		})
		wg.Wait()
		if ferr == nil {
			t.Span("cluster", "failover (network cut)", begin, promoted)
			t.Mark(newLeader, "leader", promoted)
			t.Measure(MetricFailover, promoted.Sub(begin))
		}
		if derr == nil {
			t.Span(iso, "cut off → demoted", begin, demoted)
			t.Measure(MetricDemote, demoted.Sub(begin))
		} else {
			derr = withLogs(ctx, st, iso, derr)
		}
		return errors.Join(ferr, derr)
	}) {
		return false
	}
	if !r.writesSurvive(ctx, "network cut", newLeader, begin) {
		return false
	}
	if !t.Check("the isolated node runs as a read-only replica while cut off", func() error {
		if err := waitDemoted(ctx, st, iso, true, 90*time.Second); err != nil {
			return withLogs(ctx, st, iso, err)
		}
		t.Span(iso, "cut off → in recovery", begin, time.Now())
		return nil
	}) {
		return false
	}
	other := otherThan(r.replicas, newLeader)

	if !t.Check("the isolated node reconnected rejoins as a replica and catches up", func() error {
		begin := time.Now()
		for _, n := range nets {
			if err := st.Connect(ctx, iso, n); err != nil {
				return err
			}
		}
		if err := waitRole(ctx, st, iso, "replica", 90*time.Second); err != nil {
			return withLogs(ctx, st, iso, err)
		}
		if err := waitStreaming(ctx, st, newLeader, r.password, 2, 60*time.Second); err != nil {
			return withLogs(ctx, st, iso, err)
		}
		at := time.Now()
		t.Span(iso, "reconnect → replica", begin, at)
		t.Measure(MetricRejoin, at.Sub(begin))
		// It has what the new leader acknowledged since.
		acks := r.w.snapshot()
		return poll(ctx, 30*time.Second, func() error { return verifyAcks(ctx, st, iso, r.password, acks) })
	}) {
		return false
	}
	r.leader, r.replicas = newLeader, []string{other, iso}
	return true
}

// writesSurvive checks, after a failover begun at begin, that the writer
// writes on the new leader and that the new leader holds every write
// acknowledged so far (synchronous mode: none lost), and measures the
// writer's outage.
func (r *patroniRun) writesSurvive(ctx context.Context, what, newLeader string, begin time.Time) bool {
	t := r.t
	return t.Check(fmt.Sprintf("%s: the writer goes on on %s, which has every acknowledged write", what, newLeader), func() error {
		if err := r.w.waitAckOn(ctx, newLeader, begin, 60*time.Second); err != nil {
			return err
		}
		acks := r.w.snapshot()
		if last, first, ok := outage(acks, begin, newLeader); ok {
			t.Span("writer", "no acknowledged write ("+what+")", last, first)
			t.Measure(MetricWriteOutage, first.Sub(last))
		}
		return verifyAcks(ctx, r.st, newLeader, r.password, acks)
	})
}

// waitStreaming waits until leader streams to want replicas, one of them
// the synchronous standby (Patroni's synchronous mode), and Patroni has
// recorded that standby (syncStandbyKnown).
func waitStreaming(ctx context.Context, st *engine.Stack, leader, password string, want int, timeout time.Duration) error {
	c, err := dial(ctx, st, leader, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return poll(ctx, timeout, func() error {
		var streaming, sync int
		err := c.QueryRow(ctx, "SELECT count(*) FILTER (WHERE state = 'streaming'), count(*) FILTER (WHERE state = 'streaming' AND sync_state = 'sync') FROM pg_stat_replication").Scan(&streaming, &sync)
		if err != nil {
			return err
		}
		if streaming != want || sync != 1 {
			return fmt.Errorf("%s: %d streaming replicas (%d synchronous), want %d with 1 synchronous", leader, streaming, sync, want)
		}
		return syncStandbyKnown(ctx, st, leader)
	})
}

// clusterScript prints the JSON of Patroni's GET /cluster on the node's
// own REST API (python3 is in the image with Patroni; REST auth, when set,
// covers only the unsafe methods).
const clusterScript = `import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:8008/cluster", timeout=3).read().decode())`

// syncStandbyKnown is nil once Patroni's view of the cluster (GET /cluster
// on the leader, from etcd) names exactly one running sync_standby. In
// synchronous mode only that member may be promoted, and Patroni records
// a new synchronous standby in etcd's /sync a HA cycle after PostgreSQL
// starts using it: a leader lost inside that window leaves no member
// allowed to take over (seen: a network cut ~0.2 s after a rejoin left the
// cluster leaderless for over 60 s).
func syncStandbyKnown(ctx context.Context, st *engine.Stack, leader string) error {
	out, code, err := st.Exec(ctx, leader, "", "python3", "-c", clusterScript)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%s: GET /cluster: exit %d: %s", leader, code, strings.TrimSpace(out))
	}
	var cl struct {
		Members []struct{ Name, Role, State string }
	}
	if err := json.Unmarshal([]byte(out), &cl); err != nil {
		return fmt.Errorf("%s: GET /cluster: %w", leader, err)
	}
	var sync []string
	for _, m := range cl.Members {
		if m.Role == "sync_standby" && (m.State == "running" || m.State == "streaming") {
			sync = append(sync, m.Name)
		}
	}
	if len(sync) != 1 {
		return fmt.Errorf("%s: Patroni's cluster view names %d running synchronous standbys %v, want 1", leader, len(sync), sync)
	}
	return nil
}

// waitRole waits until pgdock-healthcheck <role> passes on svc.
func waitRole(ctx context.Context, st *engine.Stack, svc, role string, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		out, code, err := st.Exec(ctx, svc, "", "pgdock-healthcheck", role)
		if err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("%s: pgdock-healthcheck %s: exit %d: %s", svc, role, code, strings.TrimSpace(out))
		}
		return nil
	})
}

// waitDemoted waits until svc has stopped being the primary: its
// `pgdock-healthcheck leader` fails and its PostgreSQL takes no writes —
// in recovery, or (while Patroni's demotion stops it) refusing connections.
// With readOnly it waits for the end of the demotion: PostgreSQL running
// again, in recovery.
func waitDemoted(ctx context.Context, st *engine.Stack, svc string, readOnly bool, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		out, code, err := st.Exec(ctx, svc, "", "pgdock-healthcheck", "leader")
		if err != nil {
			return err
		}
		if code == 0 {
			return fmt.Errorf("%s still passes pgdock-healthcheck leader: %s", svc, strings.TrimSpace(out))
		}
		out, code, err = st.Exec(ctx, svc, "postgres", "psql", "-XAtq", "-d", "postgres", "-c", "SELECT pg_is_in_recovery()")
		if err != nil {
			return err
		}
		out = strings.TrimSpace(out)
		switch {
		case code == 0 && out == "t":
			return nil
		case code == 0:
			return fmt.Errorf("%s: pg_is_in_recovery is %q: still a primary", svc, out)
		case !readOnly && refusesConnections(out):
			return nil
		}
		return fmt.Errorf("%s: psql exit %d: %s", svc, code, out)
	})
}

// refusesConnections says whether psql's error means the server takes no
// connection at all: shutting down, starting up, or not running (no socket).
func refusesConnections(psqlErr string) bool {
	for _, s := range []string{"the database system is shutting down", "the database system is starting up", "No such file or directory", "Connection refused"} {
		if strings.Contains(psqlErr, s) {
			return true
		}
	}
	return false
}

func isNode(s string) bool {
	for _, n := range patroniNodes {
		if n == s {
			return true
		}
	}
	return false
}

// nodeRole asks a node's pgdock-healthcheck whether it is the leader or a
// replica ("" when neither, with the probes' output).
func nodeRole(ctx context.Context, st *engine.Stack, svc string) (string, string, error) {
	var outs []string
	for _, role := range []string{"leader", "replica"} {
		out, code, err := st.Exec(ctx, svc, "", "pgdock-healthcheck", role)
		if err != nil {
			return "", "", err
		}
		if code == 0 {
			return role, "", nil
		}
		outs = append(outs, strings.TrimSpace(out))
	}
	return "", strings.Join(outs, "; "), nil
}

// waitCluster waits until exactly one node is the leader and every other
// one a replica.
func waitCluster(ctx context.Context, t *T, st *engine.Stack, nodes []string, timeout time.Duration) (string, []string, error) {
	var leader string
	var replicas []string
	err := poll(ctx, timeout, func() error {
		leader, replicas = "", nil
		var bad []string
		for _, n := range nodes {
			role, why, err := nodeRole(ctx, st, n)
			if err != nil {
				return err
			}
			switch role {
			case "leader":
				if leader != "" {
					return fmt.Errorf("two leaders: %s and %s", leader, n)
				}
				leader = n
			case "replica":
				replicas = append(replicas, n)
			default:
				bad = append(bad, n+": "+why)
			}
		}
		if leader == "" || len(bad) > 0 {
			return fmt.Errorf("leader %q, replicas %v, neither: %v", leader, replicas, bad)
		}
		return nil
	})
	return leader, replicas, err
}

// waitLeader waits until one of nodes is the leader.
func waitLeader(ctx context.Context, st *engine.Stack, nodes []string, timeout time.Duration) (string, error) {
	var leader string
	err := poll(ctx, timeout, func() error {
		for _, n := range nodes {
			_, code, err := st.Exec(ctx, n, "", "pgdock-healthcheck", "leader")
			if err != nil {
				return err
			}
			if code == 0 {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("no leader among %v", nodes)
	})
	return leader, err
}

// waitRows waits until rig_patroni on svc holds want rows.
func waitRows(ctx context.Context, st *engine.Stack, svc, password string, want int) error {
	c, err := dial(ctx, st, svc, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return poll(ctx, 30*time.Second, func() error {
		n, err := queryString(ctx, c, "SELECT count(*)::text FROM rig_patroni")
		if err != nil {
			return fmt.Errorf("%s: %w", svc, err)
		}
		if n != fmt.Sprint(want) {
			return fmt.Errorf("%s rows on %s, want %d", n, svc, want)
		}
		return nil
	})
}

// dial connects as the superuser to a node's published PostgreSQL port.
func dial(ctx context.Context, st *engine.Stack, svc, password string) (*pgx.Conn, error) {
	addr, err := st.HostAddr(ctx, svc, 5432)
	if err != nil {
		return nil, err
	}
	c, err := pgConnect(ctx, addr, "postgres", password, "postgres")
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", svc, err)
	}
	return c, nil
}
