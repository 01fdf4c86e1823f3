package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/jackc/pgx/v5"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// BackupCompose is the pgBackRest stack's compose file.
const BackupCompose = "compose/backup/compose.yaml"

// Services, profile and volume of compose/backup.
const (
	svcRestore     = "restore"
	profileRestore = "restore"
	volRepo        = "pgbackrest"
	volPGData      = "pgdata"
	volRestoreData = "restore-data"
)

// Metrics of the backup scenario.
const (
	// MetricRestore: up of a restore container on an empty data volume
	// (PGBACKREST_RESTORE=true) -> healthy: the restore, the recovery and
	// the start.
	MetricRestore = "restore"
	// MetricScheduled: the source healthy -> the first scheduled backup is
	// in the repository (reported, no budget: it waits for the next minute).
	MetricScheduled = "scheduled-backup"
	// MetricBackupFull: `pgdock-entrypoint backup --type full` via exec
	// (reported, no budget; make bench times backups).
	MetricBackupFull = "backup-full"
)

// goalRestore is pgdock's goal for restoring the scenario's small database
// and starting on it.
var goalRestore = budget.Budget{Metric: MetricRestore, Limit: 10 * time.Second, Source: budget.Goal}

// Rows the scenario writes in each phase (ids phase*backupRows+1 …).
const backupRows = 500

// Phases of the rows: before the first backup, between the on-demand full
// and the scheduled incremental, after it and before the noted time, after
// the noted time.
var backupPhases = []string{"a-before-backups", "b-after-full", "c-before-target", "d-after-target"}

// backupStanza is the stanza the scenario uses (the compose file's
// PGBACKREST_STANZA).
const backupStanza = "rig"

// scheduleWait bounds the wait for a per-minute scheduled backup: the next
// minute boundary plus the backup itself.
const scheduleWait = 90 * time.Second

// Backup brings up compose/backup with a per-minute incremental schedule,
// takes an on-demand full backup, and restores into fresh volumes: the
// latest state and a point in time.
func Backup() Scenario {
	return Scenario{
		Name: "backup",
		Description: "compose/backup: a pgdock node with PGBACKREST_ENABLE=true and a per-minute incremental schedule comes up healthy; " +
			"a scheduled backup appears (a full: no full yet); `pgdock-entrypoint backup --type full` via exec exits 0 and `backup info --format json` lists it; " +
			"the next scheduled backup is an incremental on it; rows written, a time noted, rows written after, WAL switched and archived; the node stopped; " +
			"the restore service (PGBACKREST_RESTORE=true, fresh volume) has identical data (count and md5); a point-in-time restore (type time, promote) has exactly the rows before the noted time; " +
			"restarted with PGBACKREST_RESTORE still set it does not restore again and keeps rows written after the restore.",
		Budgets: []budget.Budget{
			budget.PlanStartup, budget.PlanShutdown,
			goalRestore,
			budget.PlanStartup.For(budget.MetricRestart),
		},
		// About 3 minutes on an idle machine (two waits for a minute
		// boundary); 5 under a load average of 20 on 2 cores.
		Timeout: 9 * time.Minute,
		Run:     runBackup,
	}
}

// backupRun is the state the steps of the scenario share.
type backupRun struct {
	t        *T
	password string
	env      []string // interpolation variables of every stack
	src      *engine.Stack
	repoVol  string // the repository volume's name on the Engine

	labels   []string // backups in the repository, oldest first
	target   string   // the noted time (PGBACKREST_RESTORE_TARGET)
	all      rowsDigest
	beforeAt rowsDigest // the rows before the noted time
}

func runBackup(ctx context.Context, t *T) {
	r := &backupRun{t: t, password: randomPassword()}
	env, err := secretEnv(t, r.password, 0, 0)
	if err != nil {
		t.Fail("prepare the password file", err)
		return
	}
	r.env = append(env,
		"PGBACKREST_STANZA="+backupStanza,
		"PGBACKREST_SCHEDULE_FULL=", // off: the first incremental becomes the full
		"PGBACKREST_SCHEDULE_DIFF=",
		"PGBACKREST_SCHEDULE_INCR=* * * * *",
	)
	if !r.source(ctx) || !r.backups(ctx) || !r.lastRows(ctx) {
		return
	}
	if !timedStop(ctx, t, r.src, svcPostgres, "source", budget.MetricStop) {
		return
	}
	t.Check("source: no ERROR/FATAL in its log once the stanza exists (clients giving up under load aside)", func() error {
		return sourceErrorLines(ctx, r.src)
	})
	if !r.restoreLatest(ctx) {
		return
	}
	r.restorePointInTime(ctx)
}

// source brings up the backed-up node and writes the first rows.
func (r *backupRun) source(ctx context.Context) bool {
	t := r.t
	lane := "source"
	bt := bootTimes{}
	if !t.Check("source: up (PGBACKREST_ENABLE=true, incremental every minute)", func() error {
		bt.Up = time.Now()
		var err error
		r.src, err = t.Up(ctx, StackSpec{Files: []string{BackupCompose}, Env: r.env}, bt.hooks(svcPostgres))
		if err != nil {
			return err
		}
		v, ok := r.src.Project.Volumes[volRepo]
		if !ok {
			return fmt.Errorf("%s declares no %s volume", BackupCompose, volRepo)
		}
		r.repoVol = v.Name
		return nil
	}) {
		return false
	}
	if !bt.checkBoot(ctx, t, r.src, svcPostgres, lane, "source: reaches healthy", false, budget.MetricHealthy) {
		return false
	}
	return t.Check(fmt.Sprintf("source: write %d rows", backupRows), func() error {
		c, err := dial(ctx, r.src, svcPostgres, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "CREATE TABLE rig_backup (id int PRIMARY KEY, phase text NOT NULL, payload text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"); err != nil {
			return err
		}
		return insertPhase(ctx, c, 0)
	})
}

// backups waits for a scheduled backup, takes one on demand and waits for
// the next scheduled one, an incremental on it.
func (r *backupRun) backups(ctx context.Context) bool {
	t := r.t
	st := r.src
	healthy := time.Now()
	var first brBackup
	if !t.Check("a scheduled backup is taken (per-minute incremental; the first becomes a full)", func() error {
		var err error
		first, err = waitNewBackup(ctx, st, nil, scheduleWait)
		if err != nil {
			return withLogs(ctx, st, svcPostgres, err)
		}
		at := time.Now()
		t.Span("source", "first scheduled backup", healthy, at)
		t.Measure(MetricScheduled, at.Sub(healthy))
		r.labels = append(r.labels, first.Label)
		if first.Type != "full" {
			return fmt.Errorf("the first scheduled backup %s is a %s, want full (an incremental with no full yet becomes a full)", first.Label, first.Type)
		}
		return nil
	}) {
		return false
	}

	var full brBackup
	if !t.Check("`pgdock-entrypoint backup --type full` via exec exits 0; `backup info --format json` lists it", func() error {
		// Not while the scheduled job still runs (its expire holds
		// pgBackRest's lock after the backup is listed).
		if err := waitNoBackupJob(ctx, st, 30*time.Second); err != nil {
			return err
		}
		begin := time.Now()
		out, code, err := st.Exec(ctx, svcPostgres, "", "pgdock-entrypoint", "backup", "--type", "full")
		if err != nil {
			return err
		}
		at := time.Now()
		if code != 0 {
			return fmt.Errorf("pgdock-entrypoint backup --type full: exit %d: %s", code, lastLines(out, 15))
		}
		t.Span("source", "backup --type full", begin, at)
		t.Measure(MetricBackupFull, at.Sub(begin))
		infos, err := backupInfo(ctx, st, svcPostgres)
		if err != nil {
			return err
		}
		fresh := newBackups(infos, r.labels)
		if len(fresh) != 1 {
			return fmt.Errorf("backup info lists %d new backups after the on-demand one (%v), want 1", len(fresh), labelsOf(fresh))
		}
		full = fresh[0]
		r.labels = append(r.labels, full.Label)
		if full.Type != "full" {
			return fmt.Errorf("the on-demand backup %s is a %s, want full", full.Label, full.Type)
		}
		return nil
	}) {
		return false
	}

	if !t.Check(fmt.Sprintf("source: write %d more rows", backupRows), func() error {
		c, err := dial(ctx, st, svcPostgres, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		return insertPhase(ctx, c, 1)
	}) {
		return false
	}

	return t.Check("the next scheduled backup is an incremental on the on-demand full", func() error {
		begin := time.Now()
		incr, err := waitNewBackup(ctx, st, r.labels, scheduleWait)
		if err != nil {
			return withLogs(ctx, st, svcPostgres, err)
		}
		t.Span("source", "scheduled incremental", begin, time.Now())
		r.labels = append(r.labels, incr.Label)
		if incr.Type != "incr" || incr.Prior != full.Label {
			return fmt.Errorf("the scheduled backup %s is a %s on %q, want an incr on %s", incr.Label, incr.Type, incr.Prior, full.Label)
		}
		return nil
	})
}

// lastRows writes rows, notes a time on the server, writes rows after it,
// switches and archives the WAL, and records what restores must find.
func (r *backupRun) lastRows(ctx context.Context) bool {
	t := r.t
	return t.Check("rows, a noted time, rows after it; WAL switched and archived", func() error {
		c, err := dial(ctx, r.src, svcPostgres, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		if err := insertPhase(ctx, c, 2); err != nil {
			return err
		}
		// The commit of phase c is before the noted time and that of
		// phase d after it, with margins above the clock's resolution.
		if _, err := c.Exec(ctx, "SELECT pg_sleep(0.2)"); err != nil {
			return err
		}
		r.target, err = queryString(ctx, c, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'`)
		if err != nil {
			return err
		}
		if _, err := c.Exec(ctx, "SELECT pg_sleep(0.2)"); err != nil {
			return err
		}
		if err := insertPhase(ctx, c, 3); err != nil {
			return err
		}
		if r.all, err = digest(ctx, c, ""); err != nil {
			return err
		}
		if r.beforeAt, err = digest(ctx, c, "phase <> '"+backupPhases[3]+"'"); err != nil {
			return err
		}
		if r.all.Count != 4*backupRows || r.beforeAt.Count != 3*backupRows {
			return fmt.Errorf("source holds %d rows (%d before the noted time), want %d (%d)", r.all.Count, r.beforeAt.Count, 4*backupRows, 3*backupRows)
		}
		return switchAndArchive(ctx, c, 60*time.Second)
	})
}

// restoreSpec is the restore service of compose/backup alone, in a project
// of its own that mounts the source's repository volume.
func (r *backupRun) restoreSpec(extra ...string) StackSpec {
	return StackSpec{
		Files:    []string{BackupCompose},
		Profiles: []string{profileRestore},
		Env:      append(append([]string{}, r.env...), extra...),
		Adjust: func(p *types.Project) error {
			if _, ok := p.Services[svcRestore]; !ok {
				return fmt.Errorf("no %s service in %s (profile %s)", svcRestore, BackupCompose, profileRestore)
			}
			delete(p.Services, svcPostgres)
			delete(p.Volumes, volPGData)
			repo, ok := p.Volumes[volRepo]
			if !ok {
				return fmt.Errorf("%s declares no %s volume", BackupCompose, volRepo)
			}
			repo.External, repo.Name = true, r.repoVol
			p.Volumes[volRepo] = repo
			return nil
		},
	}
}

// bootRestore brings a restore stack up and waits for it to be healthy.
func (r *backupRun) bootRestore(ctx context.Context, lane string, spec StackSpec) (*engine.Stack, bool) {
	t := r.t
	bt := bootTimes{}
	var st *engine.Stack
	if !t.Check(lane+": up on a fresh volume with PGBACKREST_RESTORE=true", func() error {
		bt.Up = time.Now()
		var err error
		st, err = t.Up(ctx, spec, bt.hooks(svcRestore))
		return err
	}) {
		return nil, false
	}
	if !bt.checkBoot(ctx, t, st, svcRestore, lane, lane+": restores and reaches healthy", false, MetricRestore) {
		return st, false
	}
	return st, waitStanzaReady(ctx, t, st, lane, bt.Up)
}

// restoreLatest restores the latest state into a fresh volume and compares.
func (r *backupRun) restoreLatest(ctx context.Context) bool {
	t := r.t
	lane := "restore latest"
	st, ok := r.bootRestore(ctx, lane, r.restoreSpec())
	if !ok {
		return false
	}
	t.Check(lane+": no ERROR/FATAL in its log (clients giving up under load aside)", func() error {
		return noErrorLines(ctx, st, svcRestore)
	})
	if !t.Check(lane+": data identical to the source (count and md5 of every row)", func() error {
		c, err := dial(ctx, st, svcRestore, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		got, err := digest(ctx, c, "")
		if err != nil {
			return err
		}
		if got != r.all {
			return fmt.Errorf("restored %+v, source %+v", got, r.all)
		}
		return nil
	}) {
		return false
	}
	return timedStop(ctx, t, st, svcRestore, lane, budget.MetricStop)
}

// restorePointInTime restores to the noted time, checks the rows, and
// restarts with PGBACKREST_RESTORE still set.
func (r *backupRun) restorePointInTime(ctx context.Context) {
	t := r.t
	lane := "restore to a time"
	st, ok := r.bootRestore(ctx, lane, r.restoreSpec(
		"PGBACKREST_RESTORE_TYPE=time",
		"PGBACKREST_RESTORE_TARGET="+r.target,
		"PGBACKREST_RESTORE_TARGET_ACTION=promote",
	))
	if !ok {
		return
	}
	if !t.Check(fmt.Sprintf("%s: exactly the rows before %s; promoted, takes writes", lane, r.target), func() error {
		c, err := dial(ctx, st, svcRestore, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		got, err := digest(ctx, c, "")
		if err != nil {
			return err
		}
		if got != r.beforeAt {
			return fmt.Errorf("restored %+v, want the source's rows before the target %+v", got, r.beforeAt)
		}
		rec, err := queryString(ctx, c, "SELECT pg_is_in_recovery()::text")
		if err != nil {
			return err
		}
		if rec != "false" {
			return errors.New("still in recovery after PGBACKREST_RESTORE_TARGET_ACTION=promote")
		}
		// A row a second restore would lose.
		_, err = c.Exec(ctx, "INSERT INTO rig_backup (id, phase, payload) VALUES (0, 'after-restore', 'kept')")
		return err
	}) {
		return
	}
	if !timedStop(ctx, t, st, svcRestore, lane, budget.MetricStop) {
		return
	}
	lane = "restart of the restored node"
	rt := bootTimes{Up: time.Now()}
	if !rt.checkBoot(ctx, t, st, svcRestore, lane, lane+" (PGBACKREST_RESTORE still set) reaches healthy", true, budget.MetricRestart) {
		return
	}
	if !waitStanzaReady(ctx, t, st, lane, rt.Up) {
		return
	}
	t.Check(lane+": no second restore; restored rows and the row written after the restore are there", func() error {
		c, err := dial(ctx, st, svcRestore, r.password)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		kept, err := queryString(ctx, c, "SELECT coalesce((SELECT payload FROM rig_backup WHERE id = 0), 'missing')")
		if err != nil {
			return err
		}
		if kept != "kept" {
			return errors.New("the row written after the restore is gone: the restart restored again")
		}
		got, err := digest(ctx, c, "id <> 0")
		if err != nil {
			return err
		}
		if got != r.beforeAt {
			return fmt.Errorf("after the restart %+v, want %+v", got, r.beforeAt)
		}
		lines, err := st.Logs(ctx, svcRestore)
		if err != nil {
			return err
		}
		if n := countLines(lines, restoreLogLine); n != 1 {
			return fmt.Errorf("%d %q lines in the log of both boots, want 1", n, restoreLogLine)
		}
		return nil
	})
	t.Check(lane+": no ERROR/FATAL in its log (clients giving up under load aside)", func() error {
		return noErrorLines(ctx, st, svcRestore)
	})
	timedStop(ctx, t, st, svcRestore, lane, budget.MetricStop)
}

// insertPhase writes one phase's rows in one transaction.
func insertPhase(ctx context.Context, c *pgx.Conn, phase int) error {
	_, err := c.Exec(ctx,
		"INSERT INTO rig_backup (id, phase, payload) SELECT g, $1, md5(g::text || $1) FROM generate_series($2::int, $3::int) g",
		backupPhases[phase], phase*backupRows+1, (phase+1)*backupRows)
	if err != nil {
		return fmt.Errorf("insert phase %s: %w", backupPhases[phase], err)
	}
	return nil
}

// rowsDigest identifies a set of rows of rig_backup.
type rowsDigest struct {
	Count int
	MD5   string
}

// digest counts the rows of rig_backup matching where ("" = all) and hashes
// them in id order.
func digest(ctx context.Context, c *pgx.Conn, where string) (rowsDigest, error) {
	q := "SELECT count(*)::int, coalesce(md5(string_agg(id::text || '|' || phase || '|' || payload || '|' || at::text, ',' ORDER BY id)), '') FROM rig_backup"
	if where != "" {
		q += " WHERE " + where
	}
	var d rowsDigest
	if err := c.QueryRow(ctx, q).Scan(&d.Count, &d.MD5); err != nil {
		return d, fmt.Errorf("digest of rig_backup: %w", err)
	}
	return d, nil
}

// switchAndArchive switches to a new WAL segment and waits until the
// archiver has archived the one it closed.
func switchAndArchive(ctx context.Context, c *pgx.Conn, timeout time.Duration) error {
	seg, err := queryString(ctx, c, "SELECT pg_walfile_name(pg_switch_wal())")
	if err != nil {
		return err
	}
	return poll(ctx, timeout, func() error {
		var last string
		var failed int64
		var lastFailed string
		if err := c.QueryRow(ctx, "SELECT coalesce(last_archived_wal, ''), failed_count, coalesce(last_failed_wal, '') FROM pg_stat_archiver").Scan(&last, &failed, &lastFailed); err != nil {
			return err
		}
		if last >= seg { // same timeline: names order as segments do
			return nil
		}
		return fmt.Errorf("segment %s not archived yet (last archived %q; %d failures, last failed %q)", seg, last, failed, lastFailed)
	})
}

// noErrorLines checks a service's log has no ERROR/FATAL lines (but
// clientGaveUp).
func noErrorLines(ctx context.Context, st *engine.Stack, service string) error {
	lines, err := st.Logs(ctx, service)
	if err != nil {
		return err
	}
	return errorList(backupErrors(lines, time.Time{}))
}

// Lines of the pgbackrest plugin in the container log.
const (
	// stanzaReadyLine: stanza-create succeeded.
	stanzaReadyLine = "stanza ready"
	// restoreLogLine: a first boot restores instead of running initdb.
	restoreLogLine = "restoring instead of initdb"
	// noRepoError is archive-push's error while the stanza does not exist
	// yet: WAL of the first boot is archived before stanza-create runs.
	noRepoError = "ERROR: [103]: unable to find a valid repository"
)

// clientGaveUp are the server's lines for a client that gave up on its
// connection (a health probe or a query past its timeout on a starved
// machine: seen under a load average of 20-28 on 2 cores). They say
// nothing about backups; the backup scenario does not count them.
var clientGaveUp = []string{"FATAL:  connection to client lost", "FATAL:  canceling authentication due to timeout"}

// backupErrors are the error lines of a log the backup scenario counts:
// not clientGaveUp, and, when stanzaReady is not zero, not archive-push's
// "no stanza yet" before it.
func backupErrors(lines []engine.LogLine, stanzaReady time.Time) []string {
	var bad []string
	for _, l := range lines {
		if !errorLine.MatchString(l.Text) || slices.ContainsFunc(clientGaveUp, func(s string) bool { return strings.Contains(l.Text, s) }) {
			continue
		}
		if !stanzaReady.IsZero() && l.At.Before(stanzaReady) && strings.Contains(l.Text, noRepoError) {
			continue
		}
		bad = append(bad, l.Text)
	}
	return bad
}

// sourceErrorLines checks the source's log has no ERROR/FATAL lines apart
// from archive-push's "no stanza yet" before the stanza was created (the
// first boot's WAL is archived before the server that creates the stanza
// runs; the archiver retries and catches up).
func sourceErrorLines(ctx context.Context, st *engine.Stack) error {
	lines, err := st.Logs(ctx, svcPostgres)
	if err != nil {
		return err
	}
	return sourceErrors(lines)
}

// sourceErrors is sourceErrorLines on the lines of a log.
func sourceErrors(lines []engine.LogLine) error {
	ready, ok := logTime(lines, stanzaReadyLine, time.Time{})
	if !ok {
		return fmt.Errorf("no %q line: the stanza was never created", stanzaReadyLine)
	}
	return errorList(backupErrors(lines, ready))
}

// errorList is nil, or an error quoting the first error lines.
func errorList(bad []string) error {
	if len(bad) == 0 {
		return nil
	}
	shown := bad
	if len(shown) > 5 {
		shown = shown[:5]
	}
	return fmt.Errorf("%d error lines: %s", len(bad), strings.Join(shown, " | "))
}

// waitStanzaReady waits for the plugin's stanza check after a start of a
// restored node (it runs once the server is up). The scenario stops the
// node only then: a stop while stanza-create runs is logged by the plugin
// as "[ERROR] stanza-create failed … signal: killed", which the log checks
// would count (reported to the plugin's owner).
func waitStanzaReady(ctx context.Context, t *T, st *engine.Stack, lane string, since time.Time) bool {
	return t.Check(lane+": the stanza is checked (plugin's \""+stanzaReadyLine+"\" line)", func() error {
		return poll(ctx, 60*time.Second, func() error {
			lines, err := st.Logs(ctx, svcRestore)
			if err != nil {
				return err
			}
			if _, ok := logTime(lines, stanzaReadyLine, since); !ok {
				return fmt.Errorf("no %q line since %s", stanzaReadyLine, since.UTC().Format(time.RFC3339))
			}
			return nil
		})
	})
}

// countLines counts the log lines containing substr.
func countLines(lines []engine.LogLine, substr string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l.Text, substr) {
			n++
		}
	}
	return n
}

// waitNewBackup polls `backup info --format json` until a backup not in
// known is listed, and returns the newest one.
func waitNewBackup(ctx context.Context, st *engine.Stack, known []string, timeout time.Duration) (brBackup, error) {
	var got brBackup
	err := pollEvery(ctx, timeout, 2*time.Second, func() error {
		infos, err := backupInfo(ctx, st, svcPostgres)
		if err != nil {
			return err
		}
		fresh := newBackups(infos, known)
		if len(fresh) == 0 {
			return fmt.Errorf("no new backup (listed: %v)", labelsOf(allBackups(infos)))
		}
		got = fresh[len(fresh)-1]
		return nil
	})
	return got, err
}

// waitNoBackupJob waits until no pgBackRest backup runs in the container.
func waitNoBackupJob(ctx context.Context, st *engine.Stack, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		ps, err := st.Processes(ctx, svcPostgres)
		if err != nil {
			return err
		}
		if p := backupJob(ps); p != "" {
			return fmt.Errorf("a backup still runs: %s", p)
		}
		return nil
	})
}

// backupInfo runs `pgdock-entrypoint backup info --format json` in a
// service.
func backupInfo(ctx context.Context, st *engine.Stack, service string) ([]brStanza, error) {
	out, code, err := st.Exec(ctx, service, "", "pgdock-entrypoint", "backup", "info", "--format", "json")
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("pgdock-entrypoint backup info --format json: exit %d: %s", code, lastLines(out, 10))
	}
	return parseBackupInfo(out)
}

// lastLines is the last n lines of a command's output, for messages.
func lastLines(out string, n int) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
