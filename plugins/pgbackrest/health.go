package pgbackrest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// application is the plugin's application_name in pg_stat_activity.
const application = "pgdock-pgbackrest"

// How often the repository is read (pgbackrest info) in the background, and
// how long one probe of the server may take.
const (
	infoInterval   = time.Minute
	infoTimeout    = 30 * time.Second
	archiverTimout = 3 * time.Second
	// archiverFresh is how long a pg_stat_archiver reading answers the
	// health probes (readiness and liveness probes often come together)
	// before the next probe reads it again.
	archiverFresh = time.Second
)

// infoState is what the last `pgbackrest info` said.
type infoState struct {
	At         time.Time
	Reachable  bool
	Err        string
	Status     string // the stanza's status message
	StatusCode int
	LastLabel  string
	LastType   string
	LastStop   time.Time
	Backups    int
}

// archiverState is pg_stat_archiver at the last probe.
type archiverState struct {
	At               time.Time
	Archived, Failed int64
	LastArchivedWAL  string
	LastFailedWAL    string
	LastArchived     time.Time
	LastFailed       time.Time
	Err              string
}

// Failing reports archiving failures: the last failure is newer than the
// last success (or nothing was ever archived).
func (a archiverState) Failing() bool {
	return a.Failed > 0 && !a.LastFailed.IsZero() && (a.LastArchived.IsZero() || a.LastFailed.After(a.LastArchived))
}

// startLoop starts the background repository reader once.
func (p *Plugin) startLoop() {
	p.loop.Do(func() {
		p.wg.Go(func() {
			t := time.NewTicker(infoInterval)
			defer t.Stop()
			for {
				p.retryStanza()
				p.refreshInfo()
				select {
				case <-p.stop:
					return
				case <-t.C:
				case <-p.wake:
				}
			}
		})
	})
}

// stanzaRetry is how long after a failed stanza-create the background loop
// tries again (a repository that was unreachable at the start).
const stanzaRetry = time.Minute

// retryStanza runs stanza-create again on the primary when the last
// attempt failed a while ago.
func (p *Plugin) retryStanza() {
	p.mu.Lock()
	retry := p.role == sdk.RolePrimary && !p.stanza.Running && !p.stanza.At.IsZero() && !p.stanza.OK && time.Since(p.stanza.At) >= stanzaRetry
	p.mu.Unlock()
	if !retry {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = p.ensureStanza(ctx)
}

// poke asks the loop to read the repository again soon.
func (p *Plugin) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Plugin) refreshInfo() {
	p.mu.Lock()
	c, paths := p.cfg, p.paths
	p.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	st := readInfo(ctx, paths.InfoArgv(*c, true), c.Env(), c.Stanza)
	p.mu.Lock()
	p.info = st
	p.mu.Unlock()
}

// readInfo runs `pgbackrest info --output=json` and keeps what health needs.
func readInfo(ctx context.Context, argv []string, env map[string]string, stanza string) infoState {
	st := infoState{At: time.Now()}
	cmd := command(ctx, argv, env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		st.Err = strings.TrimSpace(firstLine(errb.String() + out.String()))
		if st.Err == "" {
			st.Err = err.Error()
		}
		return st
	}
	s, err := ParseInfo(out.Bytes(), stanza)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	s.At = st.At
	return s
}

// ParseInfo reads pgBackRest's info JSON for stanza.
func ParseInfo(data []byte, stanza string) (infoState, error) {
	var stanzas []struct {
		Name   string `json:"name"`
		Status struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"status"`
		Repo []struct {
			Key    int `json:"key"`
			Status struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"status"`
		} `json:"repo"`
		Backup []struct {
			Label     string `json:"label"`
			Type      string `json:"type"`
			Error     bool   `json:"error"`
			Timestamp struct {
				Start int64 `json:"start"`
				Stop  int64 `json:"stop"`
			} `json:"timestamp"`
		} `json:"backup"`
	}
	if err := json.Unmarshal(data, &stanzas); err != nil {
		return infoState{}, fmt.Errorf("pgbackrest info: unexpected output: %w", err)
	}
	for _, s := range stanzas {
		if s.Name != stanza {
			continue
		}
		st := infoState{Reachable: true, StatusCode: s.Status.Code, Status: s.Status.Message}
		for _, r := range s.Repo {
			if r.Status.Code == 99 { // "other": the repository could not be read
				st.Reachable = false
				st.Err = r.Status.Message
			}
		}
		for _, b := range s.Backup {
			if b.Error {
				continue
			}
			st.Backups++
			if t := time.Unix(b.Timestamp.Stop, 0); t.After(st.LastStop) {
				st.LastStop, st.LastLabel, st.LastType = t, b.Label, b.Type
			}
		}
		return st, nil
	}
	return infoState{Reachable: true, StatusCode: 1, Status: "missing stanza"}, nil
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "ERROR") {
			return l
		}
	}
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// archiverQuery reads pg_stat_archiver; the times as microseconds since
// the Unix epoch, which do not depend on the session's TimeZone or
// DateStyle.
const archiverQuery = `SELECT archived_count, failed_count, last_archived_wal, last_failed_wal,
  (extract(epoch FROM last_archived_time) * 1000000)::bigint, (extract(epoch FROM last_failed_time) * 1000000)::bigint
FROM pg_catalog.pg_stat_archiver`

// queryArchiver reads pg_stat_archiver over the server's socket.
func queryArchiver(ctx context.Context, c sdk.Conn) archiverState {
	st := archiverState{At: time.Now()}
	row, err := psql.QueryRow(ctx, psql.Local(c, "", application), archiverQuery, nil)
	if err == nil {
		err = parseArchiver(row, &st)
	}
	if err != nil {
		st.Err = err.Error()
	}
	return st
}

// parseArchiver fills st from archiverQuery's row (NULL: never).
func parseArchiver(row []*string, st *archiverState) error {
	if len(row) != 6 || row[0] == nil || row[1] == nil {
		return fmt.Errorf("pg_stat_archiver: unexpected row (%d columns)", len(row))
	}
	var err error
	if st.Archived, err = strconv.ParseInt(*row[0], 10, 64); err != nil {
		return fmt.Errorf("pg_stat_archiver archived_count: %w", err)
	}
	if st.Failed, err = strconv.ParseInt(*row[1], 10, 64); err != nil {
		return fmt.Errorf("pg_stat_archiver failed_count: %w", err)
	}
	if row[2] != nil {
		st.LastArchivedWAL = *row[2]
	}
	if row[3] != nil {
		st.LastFailedWAL = *row[3]
	}
	for _, f := range []struct {
		v    *string
		to   *time.Time
		name string
	}{{row[4], &st.LastArchived, "last_archived_time"}, {row[5], &st.LastFailed, "last_failed_time"}} {
		if f.v == nil {
			continue
		}
		us, err := strconv.ParseInt(*f.v, 10, 64)
		if err != nil {
			return fmt.Errorf("pg_stat_archiver %s: %w", f.name, err)
		}
		*f.to = time.UnixMicro(us)
	}
	return nil
}

// Health reports as HealthWithJobs with no new job results.
func (p *Plugin) Health(ctx context.Context) (sdk.Health, error) {
	return p.HealthWithJobs(ctx, sdk.HealthRequest{})
}

// HealthWithJobs reports archiving (pg_stat_archiver), the stanza, the
// repository (the last pgbackrest info), the age of the last backup
// against the schedule, and the backup jobs' last results.
func (p *Plugin) HealthWithJobs(ctx context.Context, req sdk.HealthRequest) (sdk.Health, error) {
	p.mu.Lock()
	if len(req.Jobs) > 0 {
		for name, r := range req.Jobs {
			if old, ok := p.jobs[name]; r.Finished.After(old.Finished) && !r.Running && (ok || !r.Finished.IsZero()) {
				p.poke() // a backup ended: read the repository again
			}
		}
		p.jobs = req.Jobs
	}
	c, conn, role := p.cfg, p.conn, p.role
	fresh := p.arch.Err == "" && !p.arch.At.IsZero() && time.Since(p.arch.At) < archiverFresh
	p.mu.Unlock()
	if c == nil {
		return sdk.Health{Healthy: true, Message: "not configured yet"}, nil
	}
	if conn != nil && role == sdk.RolePrimary && c.ArchiveEnable && !fresh {
		actx, cancel := context.WithTimeout(ctx, archiverTimout)
		a := queryArchiver(actx, *conn)
		cancel()
		p.mu.Lock()
		if a.Err == "" || p.arch.At.IsZero() {
			p.arch = a
		} else {
			p.arch.Err = a.Err
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return report(*c, role, p.started, p.stanza, p.info, p.arch, p.jobs, time.Now()), nil
}

// report builds the health answer from the plugin's state at now.
func report(c Config, role sdk.Role, started time.Time, stanza stanzaState, info infoState, arch archiverState, jobs map[string]sdk.JobResult, now time.Time) sdk.Health {
	var problems []string
	d := map[string]string{"stanza": c.Stanza, "repository_type": c.RepoType, "role": role.String()}
	if role == sdk.RolePrimary && c.ArchiveEnable && !arch.At.IsZero() {
		d["archived_count"] = strconv.FormatInt(arch.Archived, 10)
		d["failed_count"] = strconv.FormatInt(arch.Failed, 10)
		if arch.LastArchivedWAL != "" {
			d["last_archived_wal"] = arch.LastArchivedWAL
			d["last_archived_time"] = arch.LastArchived.UTC().Format(time.RFC3339)
		}
		if arch.LastFailedWAL != "" {
			d["last_failed_wal"] = arch.LastFailedWAL
			d["last_failed_time"] = arch.LastFailed.UTC().Format(time.RFC3339)
		}
		switch {
		case arch.Failing():
			d["archiving"] = "failing"
			problems = append(problems, fmt.Sprintf("WAL archiving is failing (%d failures, last %s at %s; see the container log for pgBackRest's error)",
				arch.Failed, arch.LastFailedWAL, arch.LastFailed.UTC().Format(time.RFC3339)))
		default:
			d["archiving"] = "ok"
		}
		if arch.Err != "" {
			d["archiver_query_error"] = arch.Err
		}
	}
	switch {
	case stanza.Running:
		d["stanza_status"] = "creating"
	case !stanza.At.IsZero() && !stanza.OK:
		d["stanza_status"] = "error"
		problems = append(problems, "stanza-create failed: "+stanza.Err)
	case stanza.OK:
		d["stanza_status"] = "ok"
	}
	if !info.At.IsZero() {
		d["repository_checked"] = info.At.UTC().Format(time.RFC3339)
		switch {
		case info.Err != "" || !info.Reachable:
			d["repository"] = "unreachable"
			problems = append(problems, "repository unreachable: "+info.Err)
		default:
			d["repository"] = "reachable"
			d["backups"] = strconv.Itoa(info.Backups)
			if info.Status != "" {
				d["repository_status"] = info.Status
			}
		}
		if info.LastLabel != "" {
			d["last_backup"] = info.LastLabel
			d["last_backup_type"] = info.LastType
			d["last_backup_time"] = info.LastStop.UTC().Format(time.RFC3339)
			d["last_backup_age"] = now.Sub(info.LastStop).Round(time.Second).String()
		}
	}
	if allowed, ok := backupInterval(c, now); ok {
		d["backup_max_age"] = allowed.String()
		base := info.LastStop
		if base.IsZero() {
			base = started
		}
		if !info.At.IsZero() && !base.IsZero() && now.Sub(base) > allowed {
			problems = append(problems, fmt.Sprintf("no successful backup for %s; the schedule expects one at least every %s", now.Sub(base).Round(time.Second), allowed))
		}
	}
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := jobs[n]
		switch {
		case r.Running:
			d["job_"+n] = "running since " + r.Started.UTC().Format(time.RFC3339)
		case r.Started.IsZero():
			d["job_"+n] = "never ran"
		case r.ExitCode == 0 && r.Error == "":
			d["job_"+n] = "ok at " + r.Finished.UTC().Format(time.RFC3339)
		default:
			d["job_"+n] = "failed at " + r.Finished.UTC().Format(time.RFC3339) + ": " + r.Error
			problems = append(problems, fmt.Sprintf("the last %s backup failed (%s)", n, r.Error))
		}
	}
	if len(problems) > 0 {
		// PostgreSQL serves: a backup or archiving problem needs an
		// operator, not a restart or a load balancer taking the node out.
		// Degraded keeps the node ready and says why; --strict fails it.
		return sdk.Health{Healthy: true, Degraded: true, Message: strings.Join(problems, "; "), Details: d}
	}
	msg := "pgbackrest ok"
	if info.LastLabel != "" {
		msg += fmt.Sprintf("; last backup %s (%s) %s ago", info.LastLabel, info.LastType, now.Sub(info.LastStop).Round(time.Second))
	}
	return sdk.Health{Healthy: true, Message: msg, Details: d}
}

// backupInterval is the longest a scheduled node may go without a
// successful backup: twice the shortest interval of its schedules, plus
// ten minutes for the backup itself. ok is false without a schedule.
func backupInterval(c Config, now time.Time) (time.Duration, bool) {
	var shortest time.Duration
	for _, s := range c.Schedules {
		sched, err := cron.ParseStandard(s)
		if err != nil {
			continue
		}
		a := sched.Next(now)
		b := sched.Next(a)
		if iv := b.Sub(a); shortest == 0 || iv < shortest {
			shortest = iv
		}
	}
	if shortest == 0 {
		return 0, false
	}
	return 2*shortest + 10*time.Minute, true
}
