package check

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/healthcheck/internal/disk"
	"github.com/pgdock/pgdock/healthcheck/internal/pgwire"
	"github.com/pgdock/pgdock/healthcheck/internal/proc"
	"github.com/pgdock/pgdock/healthcheck/internal/safefile"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// staleSlack absorbs the one-second resolution of a process start time.
const staleSlack = 2 * time.Second

// Runner runs checks.
type Runner struct {
	Config Config
	// Prober asks plugins for their health. Nil: a plugin only has to have
	// a live process.
	Prober PluginProber

	progress *progress // set by Run
	// mapped overrides peerMapped in tests.
	mapped func(socket string) bool
}

// Run runs the check called name within Config.Timeout. Every step (state
// file, socket, plugin probes, disk, /proc) runs under that one deadline: a
// step that blocks in a system call (a hung filesystem, a peer that never
// answers) is abandoned and the report says which step it was.
func (r Runner) Run(ctx context.Context, name Name) Report {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.Config.Timeout)
	defer cancel()
	// The steps get a slightly earlier deadline, so that one that honours
	// its context reports its own failure before the backstop fires.
	inner, cancelInner := context.WithTimeout(ctx, r.Config.Timeout-min(r.Config.Timeout/10, 50*time.Millisecond))
	defer cancelInner()
	r.progress = new(progress)
	rep := bounded(ctx, name, r.Config.Timeout, r.progress, func(context.Context) Report { return r.run(inner, name) })
	if r.Config.Strict {
		rep = rep.Strict()
	}
	rep.Duration = time.Since(start)
	return rep
}

// bounded runs check in a goroutine and returns its report, or a failing
// report naming the step in progress when ctx ends first (the goroutine is
// abandoned; the process exits right after the report).
func bounded(ctx context.Context, name Name, timeout time.Duration, p *progress, check func(context.Context) Report) Report {
	done := make(chan Report, 1) // buffered: an abandoned check never blocks
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- Report{Check: name, Message: fmt.Sprintf("internal error: %v", v)}
			}
		}()
		done <- check(ctx)
	}()
	select {
	case rep := <-done:
		return rep
	case <-ctx.Done():
		select {
		case rep := <-done: // finished in the same instant: the verdict stands
			return rep
		default:
		}
		return Report{Check: name, Message: fmt.Sprintf("no verdict within %s: timed out %s", timeout, p.get())}
	}
}

// progress records the step a check is in, for the timeout message.
type progress struct{ step atomic.Value }

func (p *progress) set(step string) {
	if p != nil {
		p.step.Store(step)
	}
}

func (p *progress) get() string {
	if p == nil {
		return "before the first step"
	}
	if s, ok := p.step.Load().(string); ok {
		return s
	}
	return "before the first step"
}

func (r Runner) run(ctx context.Context, name Name) Report {
	switch name {
	case Liveness:
		return r.liveness()
	case Readiness:
		return r.readiness(ctx, true)
	case PostgreSQL:
		return r.readiness(ctx, false)
	case Startup:
		return r.startup()
	case Patroni:
		st, err := r.loadState()
		p := r.patroni(ctx, st, err)
		return summarize(Patroni, []Result{p}, p.Message, "patroni")
	case Leader:
		return r.role(ctx, Leader, rolePrimary)
	case Replica:
		return r.role(ctx, Replica, roleReplica)
	case Disk:
		st, _ := r.readState() // the state only names PGDATA here
		comps := r.disk(st)
		return summarize(Disk, comps, comps[0].Message, "disk")
	case Process:
		st, _ := r.readState()
		p := r.process(st)
		return summarize(Process, []Result{p}, p.Message, "process")
	case Comprehensive:
		return r.comprehensive(ctx)
	default:
		_, err := ParseName(string(name))
		return Report{Check: name, Message: err.Error()}
	}
}

// MaxStateFileSize bounds the state file: the entrypoint writes a few
// hundred bytes; anything larger is not its file.
const MaxStateFileSize = 1 << 20

// readState reads and decodes the state file without trusting what is at its
// path: no symlink is followed, only a regular file of at most
// MaxStateFileSize bytes is read, and a FIFO cannot block the read.
func (r Runner) readState() (state.State, error) {
	r.progress.set("reading the state file " + state.Path(r.Config.StateDir))
	var st state.State
	path := state.Path(r.Config.StateDir)
	data, err := safefile.Read(path, MaxStateFileSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return st, fmt.Errorf("%s: %w", path, state.ErrNoState)
	case err != nil:
		return st, fmt.Errorf("state file refused: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return state.State{}, fmt.Errorf("decode state file %s: %w", path, err)
	}
	if st.SchemaVersion != state.SchemaVersion {
		return st, fmt.Errorf("state file %s has schema version %d, this program reads %d", path, st.SchemaVersion, state.SchemaVersion)
	}
	return st, nil
}

// loadState reads the state file and makes sure it belongs to the running
// entrypoint.
func (r Runner) loadState() (state.State, error) {
	st, err := r.readState()
	if errors.Is(err, state.ErrNoState) {
		return st, fmt.Errorf("no state file %s: entrypoint not started yet, or %s differs", state.Path(r.Config.StateDir), EnvStateDir)
	}
	if err != nil {
		return st, err
	}
	if st.PID <= 0 {
		return st, errors.New("state file names no entrypoint pid")
	}
	r.progress.set("checking the entrypoint process")
	if !proc.Alive(st.PID) {
		if st.Phase == state.PhaseStopped {
			// The entrypoint recorded the end of its lifecycle, then exited.
			return st, fmt.Errorf("stopped: entrypoint pid %d exited after recording phase stopped at %s", st.PID, st.UpdatedAt.Format(time.RFC3339))
		}
		return st, fmt.Errorf("stale state file: entrypoint pid %d is not running and did not record phase stopped", st.PID)
	}
	// A container restart keeps the file and reuses pid 1: a file written
	// before the process with that pid started belongs to another life.
	if started, err := proc.StartTime(st.PID); err == nil && !st.UpdatedAt.IsZero() && st.UpdatedAt.Before(started.Add(-staleSlack)) {
		return st, fmt.Errorf("stale state file: written %s, before entrypoint pid %d started", st.UpdatedAt.Format(time.RFC3339), st.PID)
	}
	return st, nil
}

// notReady explains a phase in which PostgreSQL must not count as ready;
// nil for phase running.
func notReady(p state.Phase) error {
	switch p {
	case state.PhaseRunning:
		return nil
	case state.PhaseBootstrapping:
		return errors.New("bootstrapping (temporary server)")
	case state.PhaseStarting:
		return errors.New("starting (server not ready yet)")
	case state.PhaseSleeping:
		return errors.New("sleep mode (SLEEP_MODE): PostgreSQL is not started on purpose")
	case state.PhaseStopping:
		return errors.New("stopping")
	case state.PhaseStopped:
		return errors.New("stopped")
	default:
		return fmt.Errorf("unknown phase %q", p)
	}
}

func (r Runner) liveness() Report {
	st, err := r.loadState()
	ent := Result{Check: "entrypoint"}
	switch {
	case err != nil:
		ent.Message = err.Error()
	case st.Phase == state.PhaseStopped:
		ent.Message = fmt.Sprintf("pid %d reports phase stopped", st.PID)
	default:
		ent.Healthy = true
		ent.Message = fmt.Sprintf("pid %d alive (phase %s)", st.PID, st.Phase)
	}
	comps := []Result{ent}
	ok := fmt.Sprintf("entrypoint pid %d alive", st.PID)
	// The postmaster must live once running; while it starts (a long
	// crash recovery included) it must live if one is known.
	mustRun := st.Phase == state.PhaseRunning
	mayRun := (st.Phase == state.PhaseBootstrapping || st.Phase == state.PhaseStarting) && st.PostmasterPID > 0
	if ent.Healthy && (mustRun || mayRun) {
		pm := r.postmaster(st)
		comps = append(comps, pm)
		ok += ", postmaster " + pm.Message
	}
	ok += fmt.Sprintf(" (phase %s)", st.Phase)
	return summarize(Liveness, comps, ok, "entrypoint")
}

func (r Runner) startup() Report {
	st, err := r.loadState()
	ph := Result{Check: "phase"}
	switch {
	case err != nil:
		ph.Message = err.Error()
	case st.Phase == state.PhaseSleeping:
		ph.Healthy = true
		ph.Message = "sleep mode (SLEEP_MODE): nothing to start"
	default:
		if err := notReady(st.Phase); err != nil {
			ph.Message = err.Error()
		} else {
			ph.Healthy = true
			ph.Message = "running"
		}
	}
	comps := []Result{ph}
	ok := ph.Message
	if ph.Healthy && st.Phase == state.PhaseRunning {
		pm := r.postmaster(st)
		comps = append(comps, pm)
		ok = "started (phase running, postmaster " + pm.Message + ")"
	}
	return summarize(Startup, comps, ok, "phase")
}

// postmaster checks that the postmaster is alive (liveness, startup).
func (r Runner) postmaster(st state.State) Result {
	res := Result{Check: "postmaster"}
	r.progress.set("looking for the postmaster process")
	pid := st.PostmasterPID
	if pid <= 0 {
		var err error
		if pid, err = proc.ReadPostmasterPID(r.pgdata(st)); err != nil {
			res.Message = "pid unknown: " + err.Error()
			return res
		}
	}
	res.Details = map[string]string{"pid": strconv.Itoa(pid)}
	if !proc.Alive(pid) {
		res.Message = fmt.Sprintf("pid %d is not running", pid)
		return res
	}
	res.Healthy = true
	res.Message = fmt.Sprintf("pid %d alive", pid)
	return res
}

// readiness is the readiness check, or the postgresql check without plugins.
func (r Runner) readiness(ctx context.Context, withPlugins bool) Report {
	st, err := r.loadState()
	pg := r.postgresql(ctx, st, err)
	if !withPlugins {
		return summarize(PostgreSQL, []Result{pg}, pg.Message, "postgresql")
	}
	comps := []Result{pg}
	ok := pg.Message
	if pg.Healthy && len(st.Plugins) > 0 {
		names := make([]string, 0, len(st.Plugins))
		for _, p := range st.Plugins {
			comps = append(comps, r.plugin(ctx, p))
			names = append(names, p.Name)
		}
		ok += "; plugins healthy: " + strings.Join(names, ", ")
		if r.Prober == nil {
			ok += " (processes alive, health not probed)"
		}
	}
	return summarize(Readiness, comps, ok, "postgresql")
}

// target is where to ping PostgreSQL, and how to say it.
func (r Runner) target(st state.State) (network, address, where string) {
	port := st.Port
	if port <= 0 {
		port = 5432
	}
	host := r.Config.Host
	if host == "" {
		host = st.SocketDir
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.HasPrefix(host, "/") {
		return "unix", pgwire.SocketPath(host, port), fmt.Sprintf("socket %s, port %d", host, port)
	}
	address = net.JoinHostPort(host, strconv.Itoa(port))
	return "tcp", address, "tcp " + address
}

// postgresql gates on the phase, then pings the server.
func (r Runner) postgresql(ctx context.Context, st state.State, stErr error) Result {
	res := Result{Check: "postgresql"}
	if stErr != nil {
		res.Message = stErr.Error()
		return res
	}
	if err := notReady(st.Phase); err != nil {
		res.Message = err.Error()
		return res
	}
	user := st.User
	if user == "" {
		user = "postgres"
	}
	network, address, where := r.target(st)
	res.Details = map[string]string{"network": network, "address": address}
	if network == "unix" && r.socketCheck(ctx, st, address, where, &res) {
		return res
	}
	r.progress.set("pinging PostgreSQL (" + where + ")")
	resp, err := pgwire.Ping(ctx, network, address, pgwire.Params{User: user, Database: Database, ApplicationName: ApplicationName})
	if resp.Code != "" {
		res.Details["sqlstate"] = resp.Code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		res.Message = fmt.Sprintf("no answer within %s (%s)", r.Config.Timeout, where)
	case err != nil:
		res.Message = fmt.Sprintf("no response (%s): %v", where, err)
	case resp.Status == pgwire.Rejecting:
		res.Message = fmt.Sprintf("not accepting connections: %s (%s)", resp.Message, where)
	default:
		res.Healthy = true
		res.Message = fmt.Sprintf("accepting connections (%s)", where)
	}
	return res
}

// socketCheck judges PostgreSQL on its unix socket without a startup
// packet when the server would log one, and reports false when the caller
// should ping as pg_isready does.
//
// A startup packet on the socket meets the socket's pg_hba.conf rule, and
// pgdock's is "local all all peer map=pgdock", whose ident map lets root
// and the server's own OS user in as the superuser. Those two get the ping
// (it reaches AuthenticationOk and leaves with Terminate: nothing is
// logged). Any other OS user (docker --user 12345:0 without a passwd entry,
// 1000:1000…) would make the server log "FATAL: Peer authentication failed"
// on every probe, so for them the verdict comes from what the server never
// logs: Knock proves the postmaster serves its socket, postmaster.pid's
// status line (what pg_ctl start -w waits for) says whether it accepts
// connections, and a startup child process of a postmaster whose status
// still says ready means crash recovery (PostgreSQL does not rewrite the
// status line then).
func (r Runner) socketCheck(ctx context.Context, st state.State, address, where string, res *Result) bool {
	mapped := peerMapped
	if r.mapped != nil {
		mapped = r.mapped
	}
	if mapped(address) {
		return false
	}
	res.Details["probe"] = "knock"
	pgdata := r.pgdata(st)
	r.progress.set("reading " + filepath.Join(pgdata, proc.PostmasterPIDFile))
	pf, err := proc.ReadPIDFile(pgdata)
	port := st.Port
	if port <= 0 {
		port = 5432
	}
	known := err == nil && pf.Port == port
	r.progress.set("knocking at PostgreSQL's socket (" + where + ")")
	if err := pgwire.Knock(ctx, "unix", address); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			res.Message = fmt.Sprintf("no answer within %s (%s)", r.Config.Timeout, where)
		} else {
			res.Message = fmt.Sprintf("no response (%s): %v", where, err)
		}
		return true
	}
	pmPID := st.PostmasterPID
	status := "unknown (postmaster.pid not readable here)"
	if known {
		pmPID, status = pf.PID, pf.Status
	}
	res.Details["postmaster_status"] = status
	switch {
	case known && pf.Status == proc.StatusStopping:
		res.Message = fmt.Sprintf("not accepting connections: the database system is shutting down (%s)", where)
	case known && pf.Status == proc.StatusStandby:
		res.Message = fmt.Sprintf("not accepting connections: standby without hot standby (%s)", where)
	case known && pf.Status != proc.StatusReady:
		res.Message = fmt.Sprintf("not accepting connections: the database system is starting up (%s)", where)
	case r.recovering(pmPID, pgdata, known):
		res.Message = fmt.Sprintf("not accepting connections: the database system is in recovery mode (%s)", where)
	default:
		res.Healthy = true
		res.Message = fmt.Sprintf("accepting connections (%s)", where)
	}
	return true
}

// peerMapped reports whether pgdock's ident map lets this process's OS user
// in over the socket: root, or the user the server runs as (the socket's
// owner) when it has a name the server can look up.
func peerMapped(socket string) bool {
	euid := os.Geteuid()
	if euid == 0 {
		return true
	}
	fi, err := os.Stat(socket)
	if err != nil {
		return false
	}
	sys, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) != euid {
		return false
	}
	_, err = user.LookupId(strconv.Itoa(euid))
	return err == nil
}

// startupTitle matches the process title of PostgreSQL's startup process
// ("postgres: startup recovering …", "postgres: <cluster_name>: startup …").
var startupTitle = regexp.MustCompile(`^postgres: (?:[^:]*: )?startup\b`)

// recovering reports whether a postmaster whose status line says ready is
// in crash recovery: its startup process runs (a hot standby's runs for
// good: standby.signal in PGDATA tells them apart when PGDATA is readable).
func (r Runner) recovering(pmPID int, pgdata string, pgdataReadable bool) bool {
	if pmPID <= 0 {
		return false
	}
	r.progress.set("looking for a startup process of postmaster " + strconv.Itoa(pmPID))
	kids, err := proc.Children(pmPID)
	if err != nil {
		return false
	}
	for _, pid := range kids {
		if title, err := proc.Title(pid); err == nil && startupTitle.MatchString(title) {
			if pgdataReadable {
				if _, err := os.Lstat(filepath.Join(pgdata, "standby.signal")); err == nil {
					return false
				}
			}
			return true
		}
	}
	return false
}

// plugin checks one plugin: its process lives, and it says it is healthy.
func (r Runner) plugin(ctx context.Context, p state.Plugin) Result {
	res := Result{Check: "plugin:" + p.Name}
	if pid := p.Reattach.Pid; pid > 0 && !proc.Alive(pid) {
		res.Message = fmt.Sprintf("process %d is not running", pid)
		return res
	}
	if r.Prober == nil {
		res.Healthy = true
		res.Message = "process alive (health not probed)"
		return res
	}
	r.progress.set("probing plugin " + p.Name)
	h, err := probeBounded(ctx, r.Prober, p)
	if err != nil {
		res.Message = "probe failed: " + err.Error()
		return res
	}
	res.Healthy, res.Details, res.Message = h.Healthy, h.Details, h.Message
	res.Degraded = h.Healthy && h.Degraded
	switch {
	case res.Message != "":
	case res.Degraded:
		res.Message = "degraded"
	case h.Healthy:
		res.Message = "healthy"
	default:
		res.Message = "unhealthy"
	}
	return res
}

// findPlugin returns the plugin called name in st.
func findPlugin(st state.State, name string) (state.Plugin, bool) {
	for _, p := range st.Plugins {
		if p.Name == name {
			return p, true
		}
	}
	return state.Plugin{}, false
}

// patroniEnabled reports whether the node runs under Patroni: the state
// file's run mode says so, or a patroni plugin is listed.
func patroniEnabled(st state.State) bool {
	_, ok := findPlugin(st, patroniPlugin)
	return ok || st.Mode == patroniPlugin
}

// patroni checks the patroni run mode: the supervised Patroni process lives,
// Patroni's REST API answers 200, and the patroni plugin (when listed) is
// healthy. The role it reports goes into the message and the details.
func (r Runner) patroni(ctx context.Context, st state.State, stErr error) Result {
	res := Result{Check: "patroni"}
	if stErr != nil {
		res.Message = stErr.Error()
		return res
	}
	if !patroniEnabled(st) {
		res.Message = fmt.Sprintf("patroni not enabled (run mode %s)", orDirect(st.Mode))
		return res
	}
	if st.ModeChildPID > 0 {
		r.progress.set("checking the Patroni process")
		if !proc.Alive(st.ModeChildPID) {
			res.Message = fmt.Sprintf("patroni process pid %d is not running (phase %s)", st.ModeChildPID, st.Phase)
			return res
		}
	}
	r.progress.set("asking Patroni's REST API " + r.Config.PatroniURL)
	status, body, err := httpGet(ctx, r.Config.PatroniURL)
	switch {
	case err != nil:
		res.Message = fmt.Sprintf("REST %s: %v", r.Config.PatroniURL, err)
		return res
	case status != http.StatusOK:
		res.Message = fmt.Sprintf("REST %s answered %d %s", r.Config.PatroniURL, status, oneLine(body))
		return res
	}
	msg := fmt.Sprintf("REST %s answered 200", r.Config.PatroniURL)
	role := st.Role
	if p, ok := findPlugin(st, patroniPlugin); ok {
		pl := r.plugin(ctx, p)
		res.Details = pl.Details
		if !pl.Healthy {
			res.Message = "plugin: " + pl.Message
			return res
		}
		msg += "; plugin: " + pl.Message
		if live := patroniRole(pl.Details); live != "" {
			role = live
		}
	}
	if res.Details == nil {
		res.Details = map[string]string{}
	}
	if st.ModeChildPID > 0 {
		res.Details["patroni_pid"] = strconv.Itoa(st.ModeChildPID)
	}
	res.Details["pgdock_role"] = orNone(role)
	res.Healthy = true
	res.Message = fmt.Sprintf("%s; role %s", msg, orNone(role))
	return res
}

// httpGet fetches url with a private client: no proxy, no keep-alive, no
// redirects, and no certificate check for loopback hosts (Patroni's REST
// certificate rarely names 127.0.0.1; /health needs no secret).
func httpGet(ctx context.Context, rawURL string) (int, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return 0, "", fmt.Errorf("parse url: %w", err)
	}
	tr := &http.Transport{DisableKeepAlives: true}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()) {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback health endpoint only
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("get: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}

// pgdata is the data directory: the flag, then the state file, then $PGDATA.
func (r Runner) pgdata(st state.State) string {
	switch {
	case r.Config.PGData != "":
		return r.Config.PGData
	case st.PGData != "":
		return st.PGData
	default:
		return r.Config.DefaultPGData
	}
}

// disk judges PGDATA's filesystem, and pg_wal's when pg_wal is a symlink to
// another filesystem (POSTGRES_INITDB_WALDIR).
func (r Runner) disk(st state.State) []Result {
	pgdata := r.pgdata(st)
	comps := []Result{r.diskAt("disk", "PGDATA", pgdata)}
	wal := filepath.Join(pgdata, "pg_wal")
	if fi, err := os.Lstat(wal); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if same, err := disk.SameFilesystem(pgdata, wal); err != nil || !same {
			comps = append(comps, r.diskAt("disk:pg_wal", "pg_wal", wal))
		}
	}
	if len(comps) == 2 && comps[0].Healthy && comps[1].Healthy {
		comps[0].Message += "; " + comps[1].Message
	}
	return comps
}

func (r Runner) diskAt(check, what, path string) Result {
	res := Result{Check: check}
	r.progress.set("checking free space on " + path)
	free, total, err := disk.Usage(path)
	if err != nil {
		res.Message = err.Error()
		return res
	}
	v := disk.Evaluate(free, total, r.Config.Disk)
	res.Healthy = v.Healthy
	res.Message = fmt.Sprintf("%s %s: %s", what, path, v)
	res.Details = map[string]string{
		"path":         path,
		"free_bytes":   strconv.FormatUint(free, 10),
		"total_bytes":  strconv.FormatUint(total, 10),
		"free_percent": strconv.FormatFloat(v.FreePercent, 'f', 1, 64),
	}
	return res
}

// process checks that the postmaster is alive and is a postgres process.
// Candidates: the state's postmaster pid, then PGDATA/postmaster.pid (the
// only source in Patroni mode, where Patroni may restart the server).
func (r Runner) process(st state.State) Result {
	res := Result{Check: "process"}
	if st.Phase == state.PhaseSleeping {
		res.Message = "sleep mode (SLEEP_MODE): no postmaster runs on purpose"
		return res
	}
	r.progress.set("looking for the postmaster process")
	var why []string
	seen := map[int]bool{}
	candidates := []int{st.PostmasterPID}
	if pid, err := proc.ReadPostmasterPID(r.pgdata(st)); err == nil {
		candidates = append(candidates, pid)
	} else if st.PostmasterPID <= 0 {
		why = append(why, err.Error())
	}
	for _, pid := range candidates {
		if pid <= 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		ok, comm, err := proc.IsPostgres(pid)
		switch {
		case ok:
			res.Healthy = true
			res.Message = fmt.Sprintf("postmaster pid %d is %s", pid, comm)
			res.Details = map[string]string{"pid": strconv.Itoa(pid)}
			return res
		case errors.Is(err, os.ErrNotExist):
			why = append(why, fmt.Sprintf("pid %d is not running", pid))
		case err != nil:
			why = append(why, err.Error())
		default:
			why = append(why, fmt.Sprintf("pid %d is %q, not postgres", pid, comm))
		}
	}
	res.Message = "no postgres postmaster: " + strings.Join(why, "; ")
	return res
}

func (r Runner) comprehensive(ctx context.Context) Report {
	st, err := r.loadState()
	comps := []Result{r.postgresql(ctx, st, err)}
	names := []string{"postgresql"}
	if err == nil && patroniEnabled(st) {
		comps = append(comps, r.patroni(ctx, st, err))
		names = append(names, "patroni")
	}
	if err == nil {
		for _, p := range st.Plugins {
			if p.Name != "patroni" {
				comps = append(comps, r.plugin(ctx, p))
				names = append(names, "plugin:"+p.Name)
			}
		}
	}
	comps = append(comps, r.disk(st)...)
	comps = append(comps, r.process(st))
	names = append(names, "disk", "process")
	return summarize(Comprehensive, comps, "all checks passed: "+strings.Join(names, ", "), "")
}
