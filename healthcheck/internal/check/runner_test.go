package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/healthcheck/internal/disk"
	"github.com/pgdock/pgdock/healthcheck/internal/pgtest"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// fakeProber stands in for sdk.ProbeHealth: canned answers per plugin name.
type fakeProber struct {
	answers map[string]PluginHealth
	errs    map[string]error
	panics  bool
	hangs   bool

	mu    sync.Mutex
	calls []string
}

func (f *fakeProber) Probe(ctx context.Context, p state.Plugin) (PluginHealth, error) {
	f.mu.Lock()
	f.calls = append(f.calls, p.Name)
	f.mu.Unlock()
	switch {
	case f.panics:
		panic("prober exploded")
	case f.hangs:
		time.Sleep(time.Hour) // ignores ctx on purpose
	}
	if err := f.errs[p.Name]; err != nil {
		return PluginHealth{}, err
	}
	if h, ok := f.answers[p.Name]; ok {
		return h, nil
	}
	return PluginHealth{Plugin: p.Name, Healthy: true}, nil
}

func (f *fakeProber) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// runningState is the state file of an entrypoint (this test process) whose
// server srv is up.
func runningState(srv *pgtest.Server) state.State {
	return state.State{
		Phase: state.PhaseRunning, Mode: "direct", PID: os.Getpid(), PostmasterPID: srv.PID(),
		PGData: srv.DataDir, Port: srv.Port, SocketDir: srv.SocketDir, User: "postgres",
	}
}

// plugin is a state entry whose process is this test process (alive).
func plugin(name string) state.Plugin {
	return state.Plugin{Name: name, Version: "1.0.0", Reattach: state.Reattach{Protocol: "grpc", ProtocolVersion: 1, Network: "unix", Address: "/nonexistent.sock", Pid: os.Getpid()}}
}

// runner writes st (unless nil) to a fresh state directory.
func runner(t testing.TB, st *state.State, prober PluginProber) Runner {
	t.Helper()
	cfg := DefaultConfig()
	cfg.StateDir = t.TempDir()
	if st != nil {
		require.NoError(t, state.Write(cfg.StateDir, *st))
	}
	return Runner{Config: cfg, Prober: prober}
}

func with(st state.State, edit func(*state.State)) *state.State {
	edit(&st)
	return &st
}

func TestReadiness(t *testing.T) {
	srv := pg.Need(t)
	up := runningState(srv)
	where := fmt.Sprintf("socket %s, port %d", srv.SocketDir, srv.Port)
	emptySock := t.TempDir()
	tcpPort, err := pgtest.FreePort()
	require.NoError(t, err)

	tests := []struct {
		name    string
		st      *state.State
		host    string
		prober  PluginProber
		strict  bool
		healthy bool
		message string // exact for failures, prefix for successes
	}{
		{name: "running and up", st: &up, healthy: true, message: "accepting connections (" + where + ")"},
		{name: "bootstrapping with the temporary server up", st: with(up, func(s *state.State) { s.Phase = state.PhaseBootstrapping }),
			message: "bootstrapping (temporary server)"},
		{name: "starting", st: with(up, func(s *state.State) { s.Phase = state.PhaseStarting }), message: "starting (server not ready yet)"},
		{name: "sleep mode", st: with(up, func(s *state.State) { s.Phase = state.PhaseSleeping; s.Mode = "sleep" }),
			message: "sleep mode (SLEEP_MODE): PostgreSQL is not started on purpose"},
		{name: "stopping", st: with(up, func(s *state.State) { s.Phase = state.PhaseStopping }), message: "stopping"},
		{name: "stopped", st: with(up, func(s *state.State) { s.Phase = state.PhaseStopped }), message: "stopped"},
		{name: "unknown phase", st: with(up, func(s *state.State) { s.Phase = "dancing" }), message: `unknown phase "dancing"`},
		{name: "unknown role is still up (libpq semantics)", st: with(up, func(s *state.State) { s.User = "nosuchrole" }), healthy: true, message: "accepting connections"},
		{name: "password role: ready without a password", st: with(up, func(s *state.State) { s.User = pgtest.PasswordRole }), healthy: true, message: "accepting connections"},
		{name: "empty user falls back to postgres", st: with(up, func(s *state.State) { s.User = "" }), healthy: true, message: "accepting connections"},
		{name: "socket directory from --host", st: with(up, func(s *state.State) { s.SocketDir = "/nonexistent" }), host: srv.SocketDir, healthy: true, message: "accepting connections (" + where + ")"},
		{name: "nothing listens on the socket", st: with(up, func(s *state.State) { s.SocketDir = emptySock }),
			message: fmt.Sprintf("no response (socket %s, port %d): connect: ", emptySock, srv.Port)},
		{name: "nothing listens on TCP", st: with(up, func(s *state.State) { s.Port = tcpPort }), host: "127.0.0.1",
			message: fmt.Sprintf("no response (tcp 127.0.0.1:%d): connect: ", tcpPort)},
		{name: "no socket dir in state means TCP 127.0.0.1", st: with(up, func(s *state.State) { s.SocketDir = ""; s.Port = tcpPort }),
			message: fmt.Sprintf("no response (tcp 127.0.0.1:%d)", tcpPort)},
		{name: "no state file", message: "no state file "},
		{name: "stale state: entrypoint pid gone", st: with(up, func(s *state.State) { s.PID = deadPID(t) }), message: "stale state file: entrypoint pid "},
		{name: "stale state: written before the entrypoint started", st: with(up, func(s *state.State) { s.UpdatedAt = time.Now().Add(-24 * time.Hour) }),
			message: "stale state file: written "},
		{name: "state without entrypoint pid", st: with(up, func(s *state.State) { s.PID = 0 }), message: "state file names no entrypoint pid"},

		{name: "plugins healthy", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest"), plugin("citus")} }),
			prober: &fakeProber{}, healthy: true, message: "accepting connections (" + where + "); plugins healthy: pgbackrest, citus"},
		{name: "plugins not probed without a prober", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			healthy: true, message: "accepting connections (" + where + "); plugins healthy: pgbackrest (processes alive, health not probed)"},
		{name: "plugin unhealthy", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest"), plugin("citus")} }),
			prober:  &fakeProber{answers: map[string]PluginHealth{"citus": {Healthy: false, Message: "coordinator unreachable"}}},
			message: "plugin:citus: coordinator unreachable"},
		{name: "plugin unhealthy without a message", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("citus")} }),
			prober: &fakeProber{answers: map[string]PluginHealth{"citus": {}}}, message: "plugin:citus: unhealthy"},
		{name: "plugin probe error", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			prober: &fakeProber{errs: map[string]error{"pgbackrest": errors.New("connection refused")}}, message: "plugin:pgbackrest: probe failed: connection refused"},
		{name: "plugin probe panics", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			prober: &fakeProber{panics: true}, message: "plugin:pgbackrest: probe failed: probe panicked: prober exploded"},
		{name: "plugin degraded: ready, and says so", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			prober:  &fakeProber{answers: map[string]PluginHealth{"pgbackrest": {Healthy: true, Degraded: true, Message: "WAL archiving is failing"}}},
			healthy: true, message: "accepting connections (" + where + "); plugins healthy: pgbackrest; degraded: plugin:pgbackrest: WAL archiving is failing"},
		{name: "plugin degraded with --strict", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			prober: &fakeProber{answers: map[string]PluginHealth{"pgbackrest": {Healthy: true, Degraded: true, Message: "WAL archiving is failing"}}},
			strict: true, message: "degraded (--strict): accepting connections"},
		{name: "unhealthy and degraded is unhealthy", st: with(up, func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }),
			prober:  &fakeProber{answers: map[string]PluginHealth{"pgbackrest": {Degraded: true, Message: "stanza-create failed"}}},
			message: "plugin:pgbackrest: stanza-create failed"},
		{name: "plugin process gone", st: with(up, func(s *state.State) {
			p := plugin("pgbackrest")
			p.Reattach.Pid = deadPID(t)
			s.Plugins = []state.Plugin{p}
		}), prober: &fakeProber{}, message: "plugin:pgbackrest: process "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, tc.prober)
			r.Config.Host = tc.host
			r.Config.Strict = tc.strict
			rep := r.Run(context.Background(), Readiness)
			assert.Equal(t, Readiness, rep.Check)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
			assert.Equal(t, rep.ExitCode() == 0, tc.healthy)
			assert.Positive(t, rep.Duration)
		})
	}
}

func TestReadinessPluginProbeBoundedByTimeout(t *testing.T) {
	srv := pg.Need(t)
	prober := &fakeProber{hangs: true}
	r := runner(t, with(runningState(srv), func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }), prober)
	r.Config.Timeout = 300 * time.Millisecond
	start := time.Now()
	rep := r.Run(context.Background(), Readiness)
	assert.False(t, rep.Healthy)
	assert.Equal(t, "plugin:pgbackrest: probe failed: no answer: context deadline exceeded", rep.Message)
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestPostgreSQLCheckIgnoresPlugins(t *testing.T) {
	srv := pg.Need(t)
	prober := &fakeProber{answers: map[string]PluginHealth{"pgbackrest": {Healthy: false}}}
	r := runner(t, with(runningState(srv), func(s *state.State) { s.Plugins = []state.Plugin{plugin("pgbackrest")} }), prober)
	rep := r.Run(context.Background(), PostgreSQL)
	assert.True(t, rep.Healthy, rep.Message)
	assert.Equal(t, PostgreSQL, rep.Check)
	assert.Empty(t, prober.called())
	require.Len(t, rep.Checks, 1)
	assert.Equal(t, "unix", rep.Checks[0].Details["network"])
	assert.Equal(t, srv.SocketPath(), rep.Checks[0].Details["address"])

	r = runner(t, with(runningState(srv), func(s *state.State) { s.Phase = state.PhaseBootstrapping }), nil)
	rep = r.Run(context.Background(), PostgreSQL)
	assert.False(t, rep.Healthy)
	assert.Equal(t, "bootstrapping (temporary server)", rep.Message)
}

// TestProbesLeaveNoTraceInServerLog: the ping never completes a login with
// a password and leaves trust sessions with Terminate, so PostgreSQL logs
// nothing (no "could not receive data", no "expected password response").
func TestProbesLeaveNoTraceInServerLog(t *testing.T) {
	srv := pg.Need(t)
	before := len(srv.Log())
	baseline := postmasterChildren(t, srv.PID())
	for _, user := range []string{"postgres", pgtest.PasswordRole} {
		r := runner(t, with(runningState(srv), func(s *state.State) { s.User = user }), nil)
		for range 10 {
			rep := r.Run(context.Background(), Readiness)
			require.True(t, rep.Healthy, rep.Message)
		}
	}
	waitBackendsGone(t, srv.PID(), baseline)
	assert.Empty(t, srv.Log()[before:], "server log after probes")
}

// TestReadinessRealRecovery57P03 starts a real server that stays in
// recovery without hot standby: it answers 57P03 and must not be ready.
// Then it stops: no response, and its postmaster pid no longer exists.
func TestReadinessRealRecovery57P03(t *testing.T) {
	pg.Need(t)
	standby, err := pg.StartStandby()
	require.NoError(t, err)
	t.Cleanup(func() { _ = standby.Stop() })
	sock, port := standby.SocketDir, standby.Port

	st := runningState(standby)
	r := runner(t, &st, nil)
	rep := r.Run(context.Background(), Readiness)
	assert.False(t, rep.Healthy)
	// Past "starting up": "not yet accepting connections" until recovery is
	// consistent, then "not accepting connections" (hot standby is off).
	assert.Regexp(t, fmt.Sprintf(`^not accepting connections: the database system is not (yet )?accepting connections \(socket %s, port %d\)$`, regexp.QuoteMeta(sock), port), rep.Message)
	assert.Equal(t, "57P03", SQLStateOf(rep))

	live := r.Run(context.Background(), Liveness)
	assert.True(t, live.Healthy, "a server in recovery is alive: %s", live.Message)

	require.NoError(t, standby.Stop())
	rep = r.Run(context.Background(), Readiness)
	assert.False(t, rep.Healthy)
	assert.Contains(t, rep.Message, "no response")
	live = r.Run(context.Background(), Liveness)
	assert.False(t, live.Healthy)
	assert.Equal(t, fmt.Sprintf("postmaster: pid %d is not running", standby.PID()), live.Message)
}

// SQLStateOf returns the SQLSTATE the postgresql component saw.
func SQLStateOf(rep Report) string {
	for _, c := range rep.Checks {
		if c.Check == "postgresql" {
			return c.Details["sqlstate"]
		}
	}
	return ""
}

func TestLiveness(t *testing.T) {
	srv := pg.Need(t)
	up := runningState(srv)
	me := os.Getpid()
	noPIDFile := t.TempDir()
	tests := []struct {
		name    string
		st      *state.State
		healthy bool
		message string
	}{
		{name: "running", st: &up, healthy: true, message: fmt.Sprintf("entrypoint pid %d alive, postmaster pid %d alive (phase running)", me, srv.PID())},
		{name: "postmaster pid from postmaster.pid", st: with(up, func(s *state.State) { s.PostmasterPID = 0 }), healthy: true,
			message: fmt.Sprintf("entrypoint pid %d alive, postmaster pid %d alive (phase running)", me, srv.PID())},
		{name: "postmaster gone", st: with(up, func(s *state.State) { s.PostmasterPID = deadPID(t) }), message: "postmaster: pid "},
		{name: "postmaster unknown", st: with(up, func(s *state.State) { s.PostmasterPID = 0; s.PGData = noPIDFile }), message: "postmaster: pid unknown: read postmaster pid: "},
		{name: "sleep mode", st: with(up, func(s *state.State) { s.Phase = state.PhaseSleeping; s.PostmasterPID = 0 }), healthy: true,
			message: fmt.Sprintf("entrypoint pid %d alive (phase sleeping)", me)},
		{name: "bootstrapping, no postmaster yet", st: with(up, func(s *state.State) { s.Phase = state.PhaseBootstrapping; s.PostmasterPID = 0 }), healthy: true,
			message: fmt.Sprintf("entrypoint pid %d alive (phase bootstrapping)", me)},
		{name: "starting with a live postmaster (long crash recovery)", st: with(up, func(s *state.State) { s.Phase = state.PhaseStarting }), healthy: true,
			message: fmt.Sprintf("entrypoint pid %d alive, postmaster pid %d alive (phase starting)", me, srv.PID())},
		{name: "starting with a dead postmaster", st: with(up, func(s *state.State) { s.Phase = state.PhaseStarting; s.PostmasterPID = deadPID(t) }), message: "postmaster: pid "},
		{name: "stopping", st: with(up, func(s *state.State) { s.Phase = state.PhaseStopping; s.PostmasterPID = deadPID(t) }), healthy: true,
			message: fmt.Sprintf("entrypoint pid %d alive (phase stopping)", me)},
		{name: "stopped", st: with(up, func(s *state.State) { s.Phase = state.PhaseStopped }), message: fmt.Sprintf("pid %d reports phase stopped", me)},
		{name: "stale", st: with(up, func(s *state.State) { s.PID = deadPID(t) }), message: "stale state file: entrypoint pid "},
		{name: "no state file", message: "no state file "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runner(t, tc.st, nil).Run(context.Background(), Liveness)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
		})
	}
}

func TestStartup(t *testing.T) {
	srv := pg.Need(t)
	up := runningState(srv)
	tests := []struct {
		name    string
		st      *state.State
		healthy bool
		message string
	}{
		{name: "running", st: &up, healthy: true, message: fmt.Sprintf("started (phase running, postmaster pid %d alive)", srv.PID())},
		{name: "running, postmaster gone", st: with(up, func(s *state.State) { s.PostmasterPID = deadPID(t) }), message: "postmaster: pid "},
		{name: "bootstrapping", st: with(up, func(s *state.State) { s.Phase = state.PhaseBootstrapping }), message: "bootstrapping (temporary server)"},
		{name: "starting", st: with(up, func(s *state.State) { s.Phase = state.PhaseStarting }), message: "starting (server not ready yet)"},
		{name: "sleep mode", st: with(up, func(s *state.State) { s.Phase = state.PhaseSleeping }), healthy: true, message: "sleep mode (SLEEP_MODE): nothing to start"},
		{name: "stopping", st: with(up, func(s *state.State) { s.Phase = state.PhaseStopping }), message: "stopping"},
		{name: "stale", st: with(up, func(s *state.State) { s.PID = deadPID(t) }), message: "stale state file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := runner(t, tc.st, nil).Run(context.Background(), Startup)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
		})
	}
}

func TestProcess(t *testing.T) {
	srv := pg.Need(t)
	up := runningState(srv)
	me, dead, empty := os.Getpid(), deadPID(t), t.TempDir()
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15] // comm is truncated
	}
	tests := []struct {
		name    string
		st      *state.State
		pgdata  string
		healthy bool
		message string
	}{
		{name: "state pid is the postmaster", st: &up, healthy: true, message: fmt.Sprintf("postmaster pid %d is postgres", srv.PID())},
		{name: "state pid is not postgres, postmaster.pid is", st: with(up, func(s *state.State) { s.PostmasterPID = me }), healthy: true,
			message: fmt.Sprintf("postmaster pid %d is postgres", srv.PID())},
		{name: "state pid is not postgres, no postmaster.pid", st: with(up, func(s *state.State) { s.PostmasterPID = me; s.PGData = empty }),
			message: fmt.Sprintf("no postgres postmaster: pid %d is %q, not postgres", me, self)},
		{name: "state pid gone, no postmaster.pid", st: with(up, func(s *state.State) { s.PostmasterPID = dead; s.PGData = empty }),
			message: fmt.Sprintf("no postgres postmaster: pid %d is not running", dead)},
		{name: "no pid anywhere", st: with(up, func(s *state.State) { s.PostmasterPID = 0; s.PGData = empty }),
			message: "no postgres postmaster: read postmaster pid: "},
		{name: "no state file: postmaster.pid from --pgdata", pgdata: srv.DataDir, healthy: true, message: fmt.Sprintf("postmaster pid %d is postgres", srv.PID())},
		{name: "sleep mode", st: with(up, func(s *state.State) { s.Phase = state.PhaseSleeping }), message: "sleep mode (SLEEP_MODE): no postmaster runs on purpose"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, nil)
			r.Config.PGData = tc.pgdata
			rep := r.Run(context.Background(), Process)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
		})
	}
}

func TestDisk(t *testing.T) {
	pgdata := t.TempDir()
	st := state.State{Phase: state.PhaseRunning, PID: os.Getpid(), PGData: pgdata}
	tests := []struct {
		name      string
		st        *state.State
		pgdata    string
		fallback  string
		pct       float64
		mb        uint64
		healthy   bool
		msgPrefix string
	}{
		{name: "floors off: healthy", st: &st, healthy: true, msgPrefix: "PGDATA " + pgdata + ": "},
		{name: "100% floor: fails", st: &st, pct: 100, msgPrefix: "PGDATA " + pgdata + ": "},
		{name: "huge byte floor: fails", st: &st, mb: 1 << 40, msgPrefix: "PGDATA " + pgdata + ": "},
		{name: "--pgdata wins over the state", st: &st, pgdata: "/", healthy: true, msgPrefix: "PGDATA /: "},
		{name: "no state file: $PGDATA fallback", fallback: pgdata, healthy: true, msgPrefix: "PGDATA " + pgdata + ": "},
		{name: "missing directory", pgdata: filepath.Join(pgdata, "missing"), msgPrefix: "statfs "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, nil)
			r.Config.PGData = tc.pgdata
			if tc.fallback != "" {
				r.Config.DefaultPGData = tc.fallback
			}
			r.Config.Disk.MinFreePercent = tc.pct
			r.Config.Disk.MinFreeBytes = tc.mb
			rep := r.Run(context.Background(), Disk)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.msgPrefix), "message %q, want prefix %q", rep.Message, tc.msgPrefix)
			require.Len(t, rep.Checks, 1)
		})
	}
}

func TestDiskSeparateWALFilesystem(t *testing.T) {
	pgdata := t.TempDir()
	// A pg_wal symlink on the same filesystem adds nothing.
	require.NoError(t, os.Mkdir(filepath.Join(pgdata, "wal-here"), 0o700))
	require.NoError(t, os.Symlink(filepath.Join(pgdata, "wal-here"), filepath.Join(pgdata, "pg_wal")))
	r := runner(t, nil, nil)
	r.Config.PGData = pgdata
	rep := r.Run(context.Background(), Disk)
	require.True(t, rep.Healthy, rep.Message)
	assert.Len(t, rep.Checks, 1)

	other, err := os.MkdirTemp("/dev/shm", "pgdock-wal-")
	if err != nil {
		pgtest.Missing(t, fmt.Sprintf("no second filesystem (/dev/shm) to put pg_wal on: %v", err))
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	if same, err := disk.SameFilesystem(pgdata, other); err != nil || same {
		pgtest.Missing(t, fmt.Sprintf("/dev/shm is not a second filesystem here (%v)", err))
	}
	require.NoError(t, os.Remove(filepath.Join(pgdata, "pg_wal")))
	require.NoError(t, os.Symlink(other, filepath.Join(pgdata, "pg_wal")))
	rep = r.Run(context.Background(), Disk)
	require.Len(t, rep.Checks, 2)
	assert.Equal(t, "disk:pg_wal", rep.Checks[1].Check)
	assert.Contains(t, rep.Message, "; pg_wal "+filepath.Join(pgdata, "pg_wal")+": ")

	r.Config.Disk.MinFreePercent = 100
	rep = r.Run(context.Background(), Disk)
	assert.False(t, rep.Healthy)
	assert.Contains(t, rep.Message, "disk:pg_wal: pg_wal ")
}

// fakePatroni is Patroni's REST API answering /health with status.
func fakePatroni(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"state": "running", "role": "primary", "code": %d}`, status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/health"
}

func TestPatroni(t *testing.T) {
	withPatroni := state.State{Phase: state.PhaseRunning, Mode: "patroni", PID: os.Getpid(), Plugins: []state.Plugin{plugin("patroni")}}
	ok, unavailable := fakePatroni(t, http.StatusOK), fakePatroni(t, http.StatusServiceUnavailable)
	closedPort, err := pgtest.FreePort()
	require.NoError(t, err)
	tests := []struct {
		name    string
		st      *state.State
		url     string
		prober  PluginProber
		healthy bool
		message string
	}{
		{name: "REST 200 and plugin healthy", st: &withPatroni, url: ok, prober: &fakeProber{answers: map[string]PluginHealth{"patroni": {Healthy: true, Message: "leader"}}},
			healthy: true, message: "REST " + ok + " answered 200; plugin: leader"},
		{name: "REST 200, no prober", st: &withPatroni, url: ok, healthy: true, message: "REST " + ok + " answered 200; plugin: process alive (health not probed)"},
		{name: "REST 503", st: &withPatroni, url: unavailable, prober: &fakeProber{}, message: "REST " + unavailable + ` answered 503 {"state": "running"`},
		{name: "REST not listening", st: &withPatroni, url: fmt.Sprintf("http://127.0.0.1:%d/health", closedPort), prober: &fakeProber{}, message: "REST http://127.0.0.1:"},
		{name: "plugin unhealthy", st: &withPatroni, url: ok, prober: &fakeProber{answers: map[string]PluginHealth{"patroni": {Message: "no leader"}}}, message: "plugin: no leader"},
		{name: "not enabled", st: with(withPatroni, func(s *state.State) { s.Mode = "direct"; s.Plugins = []state.Plugin{plugin("pgbackrest")} }), url: ok,
			message: "patroni not enabled (run mode direct)"},
		{name: "role from the plugin's live details", st: with(withPatroni, func(s *state.State) { s.Role = "primary" }), url: ok,
			prober:  &fakeProber{answers: map[string]PluginHealth{"patroni": {Healthy: true, Message: "live", Details: map[string]string{"role": "replica", "state": "running"}}}},
			healthy: true, message: "REST " + ok + " answered 200; plugin: live; role replica"},
		{name: "mode patroni without a listed plugin: role from the state file", url: ok, healthy: true,
			st:      with(withPatroni, func(s *state.State) { s.Plugins = nil; s.Role = "primary"; s.ModeChildPID = os.Getpid() }),
			message: "REST " + ok + " answered 200; role primary"},
		{name: "patroni process dead", url: ok, prober: &fakeProber{},
			st:      with(withPatroni, func(s *state.State) { s.ModeChildPID = deadPID(t) }),
			message: "patroni process pid "},
		{name: "no state file", url: ok, message: "no state file "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, tc.prober)
			r.Config.PatroniURL = tc.url
			rep := r.Run(context.Background(), Patroni)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
		})
	}
}

func TestHTTPGet(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	status, _, err := httpGet(context.Background(), redirect.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, status, "redirects are not followed")

	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(tlsSrv.Close)
	status, body, err := httpGet(context.Background(), tlsSrv.URL)
	require.NoError(t, err, "a loopback certificate is not verified")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok", body)

	_, _, err = httpGet(context.Background(), "http://[::1")
	assert.ErrorContains(t, err, "parse url")
	_, _, err = httpGet(context.Background(), "ftp://127.0.0.1/")
	assert.ErrorContains(t, err, "get")
}

func TestComprehensive(t *testing.T) {
	srv := pg.Need(t)
	ok := fakePatroni(t, http.StatusOK)
	full := with(runningState(srv), func(s *state.State) { s.Plugins = []state.Plugin{plugin("patroni"), plugin("pgbackrest")} })
	tests := []struct {
		name    string
		st      *state.State
		pct     float64
		prober  PluginProber
		healthy bool
		message string
	}{
		{name: "all good", st: full, prober: &fakeProber{}, healthy: true,
			message: "all checks passed: postgresql, patroni, plugin:pgbackrest, disk, process"},
		{name: "no patroni, no plugins", st: with(runningState(srv), func(*state.State) {}), healthy: true,
			message: "all checks passed: postgresql, disk, process"},
		{name: "every failure named", st: with(*full, func(s *state.State) {
			s.Phase = state.PhaseBootstrapping
			s.PostmasterPID = os.Getpid()
			s.PGData = os.TempDir()
		}),
			pct: 100, prober: &fakeProber{answers: map[string]PluginHealth{"patroni": {Message: "no leader"}, "pgbackrest": {Message: "stanza missing"}}},
			message: "postgresql: bootstrapping (temporary server); patroni: plugin: no leader; plugin:pgbackrest: stanza missing; disk: PGDATA "},
		{name: "stale state", st: with(*full, func(s *state.State) { s.PID = deadPID(t) }), prober: &fakeProber{},
			message: "postgresql: stale state file: entrypoint pid "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, tc.st, tc.prober)
			r.Config.PatroniURL = ok
			r.Config.Disk.MinFreePercent = tc.pct
			r.Config.Disk.MinFreeBytes = 0
			rep := r.Run(context.Background(), Comprehensive)
			assert.Equal(t, tc.healthy, rep.Healthy, rep.Message)
			assert.True(t, strings.HasPrefix(rep.Message, tc.message), "message %q, want prefix %q", rep.Message, tc.message)
		})
	}
	rep := runner(t, with(*full, func(s *state.State) { s.Phase = state.PhaseBootstrapping; s.PostmasterPID = 0; s.PGData = t.TempDir() }), &fakeProber{}).Run(context.Background(), Comprehensive)
	assert.Contains(t, rep.Message, "process: no postgres postmaster")
}

func TestRunUnknownCheck(t *testing.T) {
	rep := runner(t, nil, nil).Run(context.Background(), "bogus")
	assert.False(t, rep.Healthy)
	assert.Equal(t, 1, rep.ExitCode())
	assert.Contains(t, rep.Message, `unknown check "bogus"`)
}
