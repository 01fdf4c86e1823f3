package scenario

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// PatroniBackupCompose is the override of compose/patroni that turns
// pgBackRest on for every node (one shared repository volume).
const PatroniBackupCompose = "compose/patroni/backup.yaml"

// Metrics of the patroni-backup scenario (reported, no budget: make bench
// times backups and restores).
const (
	// MetricReplicaCreate: a removed replica's container created again on
	// an empty data volume -> the leader streams to it (Patroni restored it
	// from the repository, then it caught up).
	MetricReplicaCreate = "replica-create"
	// MetricBackupIncr: `pgdock-entrypoint backup --type incr` via exec on
	// the leader after the failover.
	MetricBackupIncr = "backup-incr"
)

// Log lines of Patroni 3.0.2 (patroni/postgresql/bootstrap.py,
// create_replica) and pgBackRest.
const (
	createdByPgbackrest = "replica has been created using pgbackrest"
	createdByBasebackup = "replica has been created using basebackup"
	pgbackrestFailed    = "Error creating replica using method pgbackrest"
	// pgBackRest's first line of a restore (log-level-console=info).
	restoreBegin = "restore command begin"
)

// pgdockError matches pgdock's own error-level log entries (the server's
// and Patroni's ERROR lines are not pgdock's: walsenders and WAL receivers
// cut by a stop or a failover log them by design).
var pgdockError = regexp.MustCompile(`\[(ERROR|FATAL|PANIC|DPANIC)\]|"level":"(error|fatal|panic|dpanic)"`)

// patroniBackupStanza is the stanza the scenario uses.
const patroniBackupStanza = "rig"

// PatroniBackup brings up compose/patroni with compose/patroni/backup.yaml
// (pgBackRest on every node, one shared posix repository): a full backup
// on the leader; a replica removed with its data volume and created again
// is restored by Patroni from the repository (pgBackRest, not
// pg_basebackup) and streams; after a failover the new leader takes an
// incremental backup and archives.
func PatroniBackup() Scenario {
	return Scenario{
		Name: "patroni-backup",
		Description: "compose/patroni + compose/patroni/backup.yaml (PGBACKREST_ENABLE=true on every node, one shared repository volume, no schedules; synchronous mode, ttl 10): the cluster forms (the first replicas fall back to pg_basebackup: no backup yet); " +
			"`pgdock-entrypoint backup --type full` via exec on the leader exits 0 and `backup info --format json` lists it; a replica stopped, its container and data volume removed and created again → Patroni creates it with pgBackRest (its log line, no basebackup), restore_command is archive-get, it streams and has every row; " +
			"docker stop of the leader → a new leader, which creates/uses the stanza, takes `backup --type incr` on the full and archives a WAL segment of its timeline with no archiver failure; every container stops inside the budget.",
		Budgets: []budget.Budget{
			budget.PlanStartup, budget.PlanStartup.For(MetricCluster),
			planFailover,
			budget.PlanShutdown,
		},
		Timeout: 12 * time.Minute,
		Run:     runPatroniBackup,
	}
}

// patroniBackupRun is the state the steps share.
type patroniBackupRun struct {
	*patroniRun
	full brBackup // the leader's on-demand full backup
	rows int      // rows in rig_patroni
}

func runPatroniBackup(ctx context.Context, t *T) {
	env := []string{
		"PGBACKREST_STANZA=" + patroniBackupStanza,
		"PGBACKREST_SCHEDULE_FULL=", // on demand only
		"PGBACKREST_SCHEDULE_DIFF=",
		"PGBACKREST_SCHEDULE_INCR=",
	}
	pr, up, started, ok := upPatroni(ctx, t, " (compose.yaml + backup.yaml)", []string{PatroniCompose, PatroniBackupCompose}, env, func(p *types.Project) error {
		if _, ok := p.Volumes[volRepo]; !ok {
			return fmt.Errorf("%s declares no %s volume", PatroniBackupCompose, volRepo)
		}
		return nil
	})
	if !ok {
		return
	}
	t, st := pr.t, pr.st
	r := &patroniBackupRun{patroniRun: pr, rows: patroniRows}
	if !r.form(ctx, up, started) {
		return
	}
	if !r.firstReplicas(ctx) || !r.fullBackup(ctx) || !r.recreateReplica(ctx) || !r.failover(ctx) {
		return
	}
	t.Check("no pgdock error line in any node's log", func() error {
		var errs []error
		for _, n := range patroniNodes {
			lines, err := st.Logs(ctx, n)
			if err != nil {
				return err
			}
			var bad []string
			for _, l := range lines {
				if pgdockError.MatchString(l.Text) {
					bad = append(bad, l.Text)
				}
			}
			if err := errorList(bad); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
			}
		}
		return errors.Join(errs...)
	})
	r.stopAll(ctx)
}

// firstReplicas: the stanza exists (the leader created it in its
// post-bootstrap callback) and the first replicas, created before any
// backup, fell back from pgBackRest to pg_basebackup.
func (r *patroniBackupRun) firstReplicas(ctx context.Context) bool {
	t, st := r.t, r.st
	if !t.Check("the leader created the stanza (plugin's \""+stanzaReadyLine+"\" line)", func() error {
		return poll(ctx, 60*time.Second, func() error {
			lines, err := st.Logs(ctx, r.leader)
			if err != nil {
				return err
			}
			if _, ok := logTime(lines, stanzaReadyLine, time.Time{}); !ok {
				return fmt.Errorf("%s: no %q line yet", r.leader, stanzaReadyLine)
			}
			return nil
		})
	}) {
		return false
	}
	return t.Check("no backup yet: the first replicas were created by pg_basebackup (pgbackrest tried first)", func() error {
		var errs []error
		for _, rep := range r.replicas {
			lines, err := st.Logs(ctx, rep)
			if err != nil {
				return err
			}
			base, br, failed := countLines(lines, createdByBasebackup), countLines(lines, createdByPgbackrest), countLines(lines, pgbackrestFailed)
			if base != 1 || br != 0 || failed == 0 {
				errs = append(errs, withLogs(ctx, st, rep, fmt.Errorf("%s: %d %q, %d %q and %d %q lines, want 1, 0 and at least 1", rep,
					base, createdByBasebackup, br, createdByPgbackrest, failed, pgbackrestFailed)))
			}
		}
		return errors.Join(errs...)
	})
}

// fullBackup takes a full backup on the leader and writes rows after it
// (a replica restored from it must get them from the archive or the
// stream).
func (r *patroniBackupRun) fullBackup(ctx context.Context) bool {
	t, st := r.t, r.st
	if !t.Check("`pgdock-entrypoint backup --type full` via exec on the leader exits 0; `backup info --format json` lists it", func() error {
		b, took, err := r.backup(ctx, r.leader, "full", nil)
		if err != nil {
			return err
		}
		t.Measure(MetricBackupFull, took)
		r.full = b
		return nil
	}) {
		return false
	}
	return t.Check("rows written after the backup reach both replicas", func() error {
		c, err := dial(ctx, st, r.leader, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "INSERT INTO rig_patroni SELECT g, $1 FROM generate_series($2::int, $3::int) g", r.leader, r.rows+1, r.rows+patroniRows); err != nil {
			return fmt.Errorf("insert on %s: %w", r.leader, err)
		}
		r.rows += patroniRows
		for _, rep := range r.replicas {
			if err := waitRows(ctx, st, rep, r.password, r.rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// backup runs `pgdock-entrypoint backup --type typ` on node and returns
// the one new backup `backup info` lists, of that type, with its time.
func (r *patroniBackupRun) backup(ctx context.Context, node, typ string, known []string) (brBackup, time.Duration, error) {
	t, st := r.t, r.st
	t.Step("%s: backup --type %s", node, typ)
	begin := time.Now()
	out, code, err := st.Exec(ctx, node, "", "pgdock-entrypoint", "backup", "--type", typ)
	if err != nil {
		return brBackup{}, 0, err
	}
	at := time.Now()
	if code != 0 {
		return brBackup{}, 0, withLogs(ctx, st, node, fmt.Errorf("%s: pgdock-entrypoint backup --type %s: exit %d: %s", node, typ, code, lastLines(out, 15)))
	}
	t.Span(node, "backup --type "+typ, begin, at)
	infos, err := backupInfo(ctx, st, node)
	if err != nil {
		return brBackup{}, 0, err
	}
	for _, s := range infos {
		if s.Name != patroniBackupStanza {
			return brBackup{}, 0, fmt.Errorf("backup info lists stanza %q, want only %q", s.Name, patroniBackupStanza)
		}
	}
	fresh := newBackups(infos, known)
	if len(fresh) != 1 {
		return brBackup{}, 0, fmt.Errorf("backup info lists %d new backups (%v), want 1", len(fresh), labelsOf(fresh))
	}
	if fresh[0].Type != typ {
		return brBackup{}, 0, fmt.Errorf("the new backup %s is a %s, want %s", fresh[0].Label, fresh[0].Type, typ)
	}
	return fresh[0], at.Sub(begin), nil
}

// recreateReplica stops a replica, removes its container and its data
// volume, and creates it again: Patroni must restore it from the
// repository with pgBackRest, and it must stream with every row.
func (r *patroniBackupRun) recreateReplica(ctx context.Context) bool {
	t, st := r.t, r.st
	rep := r.replicas[0]
	if !timedStop(ctx, t, st, rep, rep, budget.MetricStop) {
		return false
	}
	if !t.Check(rep+": container and data volume removed", func() error {
		if err := st.Remove(ctx, rep); err != nil {
			return err
		}
		return st.RemoveVolume(ctx, rep) // compose/patroni names each node's data volume after it
	}) {
		return false
	}
	var begin, startedAt time.Time
	if !t.Check(rep+": created again on an empty volume → Patroni restores it from the repository and it streams", func() error {
		begin = time.Now()
		if err := st.CreateService(ctx, rep, engine.Hooks{Created: func(s string, at time.Time) { t.Mark(s, "created again", at) }}); err != nil {
			return err
		}
		if err := st.Start(ctx, rep); err != nil {
			return err
		}
		startedAt = time.Now()
		t.Mark(rep, "started", startedAt)
		w, err := st.WaitHealthy(ctx, rep, 120*time.Second)
		if err != nil {
			return withLogs(ctx, st, rep, err)
		}
		healthy := w.HealthyAt
		if !w.ProbeEnd.IsZero() && w.ProbeEnd.After(startedAt) && w.ProbeEnd.Before(healthy) {
			healthy = w.ProbeEnd
		}
		t.Span(rep, "start → healthy", startedAt, healthy)
		t.Measure(budget.MetricHealthy, healthy.Sub(startedAt))
		if err := waitRole(ctx, st, rep, "replica", 60*time.Second); err != nil {
			return withLogs(ctx, st, rep, err)
		}
		if err := waitStreamsTo(ctx, st, r.leader, r.password, rep, 60*time.Second); err != nil {
			return withLogs(ctx, st, rep, err)
		}
		at := time.Now()
		t.Span(rep, "created → streaming", begin, at)
		t.Measure(MetricReplicaCreate, at.Sub(begin))
		if err := waitRows(ctx, st, rep, r.password, r.rows); err != nil {
			return err
		}
		return waitStreaming(ctx, st, r.leader, r.password, 2, 60*time.Second)
	}) {
		return false
	}
	return t.Check(rep+": Patroni created it with pgBackRest (its log line, no basebackup); restore_command is archive-get", func() error {
		lines, err := st.Logs(ctx, rep)
		if err != nil {
			return err
		}
		var errs []error
		if at, ok := logTime(lines, createdByPgbackrest, time.Time{}); ok {
			if rb, ok := logTime(lines, restoreBegin, time.Time{}); ok {
				t.Span(rep, "pgBackRest restore", rb, at)
			}
		} else {
			errs = append(errs, fmt.Errorf("no %q line", createdByPgbackrest))
		}
		for _, bad := range []string{createdByBasebackup, pgbackrestFailed} {
			if n := countLines(lines, bad); n != 0 {
				errs = append(errs, fmt.Errorf("%d %q lines", n, bad))
			}
		}
		if countLines(lines, restoreBegin) == 0 {
			errs = append(errs, fmt.Errorf("no pgBackRest %q line", restoreBegin))
		}
		if len(errs) > 0 {
			return withLogs(ctx, st, rep, errors.Join(errs...))
		}
		c, err := dial(ctx, st, rep, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		rc, err := queryString(ctx, c, "SHOW restore_command")
		if err != nil {
			return err
		}
		if !strings.Contains(rc, "archive-get") {
			return fmt.Errorf("%s: restore_command %q, want pgBackRest's archive-get", rep, rc)
		}
		return nil
	})
}

// waitStreamsTo waits until leader streams to the member named app
// (Patroni's application_name is the member name).
func waitStreamsTo(ctx context.Context, st *engine.Stack, leader, password, app string, timeout time.Duration) error {
	c, err := dial(ctx, st, leader, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return poll(ctx, timeout, func() error {
		n, err := queryString(ctx, c, "SELECT count(*)::text FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", app)
		if err != nil {
			return err
		}
		if n != "1" {
			return fmt.Errorf("%s does not stream to %s", leader, app)
		}
		return nil
	})
}

// failover: docker stop of the leader → a new leader, which creates/uses
// the stanza, takes an incremental backup on the full and archives on its
// timeline.
func (r *patroniBackupRun) failover(ctx context.Context) bool {
	t, st := r.t, r.st
	newLeader, begin, ok := stopLeaderFailover(ctx, t, st, r.leader, r.replicas)
	if !ok {
		return false
	}
	other := otherThan(r.replicas, newLeader)
	r.leader, r.replicas = newLeader, []string{other}

	if !t.Check(newLeader+": the stanza is checked after the promotion; rows written there reach "+other, func() error {
		if err := poll(ctx, 60*time.Second, func() error {
			lines, err := st.Logs(ctx, newLeader)
			if err != nil {
				return err
			}
			if _, ok := logTime(lines, stanzaReadyLine, begin); !ok {
				return fmt.Errorf("%s: no %q line since the failover", newLeader, stanzaReadyLine)
			}
			return nil
		}); err != nil {
			return withLogs(ctx, st, newLeader, err)
		}
		c, err := dial(ctx, st, newLeader, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "INSERT INTO rig_patroni SELECT g, $1 FROM generate_series($2::int, $3::int) g", newLeader, r.rows+1, r.rows+patroniRows); err != nil {
			return fmt.Errorf("insert on %s: %w", newLeader, err)
		}
		r.rows += patroniRows
		return waitRows(ctx, st, other, r.password, r.rows)
	}) {
		return false
	}

	if !t.Check(newLeader+": `pgdock-entrypoint backup --type incr` exits 0; `backup info` lists an incr on the full", func() error {
		b, took, err := r.backup(ctx, newLeader, "incr", []string{r.full.Label})
		if err != nil {
			return err
		}
		t.Measure(MetricBackupIncr, took)
		if b.Prior != r.full.Label {
			return fmt.Errorf("the incremental %s is on %q, want the full %s", b.Label, b.Prior, r.full.Label)
		}
		return nil
	}) {
		return false
	}

	return t.Check(newLeader+": archives a WAL segment of its new timeline (pg_stat_archiver: archived, failed_count unchanged)", func() error {
		c, err := dial(ctx, st, newLeader, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		var failedBefore int64
		if err := c.QueryRow(ctx, "SELECT failed_count FROM pg_stat_archiver").Scan(&failedBefore); err != nil {
			return err
		}
		if err := switchAndArchive(ctx, c, 60*time.Second); err != nil {
			return err
		}
		var last string
		var failed int64
		if err := c.QueryRow(ctx, "SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver").Scan(&last, &failed); err != nil {
			return err
		}
		if failed != failedBefore {
			return fmt.Errorf("%s: archiver failures %d → %d", newLeader, failedBefore, failed)
		}
		if strings.HasPrefix(last, "00000001") {
			return fmt.Errorf("%s: last archived WAL %s is on timeline 1, want the new leader's timeline", newLeader, last)
		}
		return nil
	})
}
