package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/pgdock/pgdock/healthcheck/internal/check"
	"github.com/pgdock/pgdock/healthcheck/internal/pgtest"
	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// The end-to-end tests run the real binary, built once by TestMain with
// CGO_ENABLED=0 like the image's, against a real PostgreSQL 15.
var (
	binary string
	pg     *pgtest.Shared
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "pgdock-hc-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "pgdock-healthcheck")
		build := exec.Command("go", "build", "-trimpath", "-o", binary, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build pgdock-healthcheck: %v\n%s", err, out)
			return 1
		}
		pg = pgtest.NewShared()
		defer pg.Close()
		return m.Run()
	}()
	os.Exit(code)
}

// result is one run of the command: its exit code and stdout.
type result struct {
	code   int
	stdout string
}

// runBinary runs the built binary with env added to a clean environment.
func runBinary(t testing.TB, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", args, err)
	}
	assert.Empty(t, stderr.String(), "nothing on stderr")
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String()}
}

// runInProcess runs the same command line through run().
func runInProcess(env map[string]string, args ...string) result {
	var out bytes.Buffer
	code := run(args, &out, func(k string) string { return env[k] }, newProber())
	return result{code: code, stdout: out.String()}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t testing.TB) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

// stateDir writes a state file for an entrypoint (this test process) whose
// server srv is up, edited by edit, and returns the directory.
func stateDir(t testing.TB, srv *pgtest.Server, edit func(*state.State)) string {
	t.Helper()
	st := state.State{
		Phase: state.PhaseRunning, Mode: "direct", PID: os.Getpid(), PostmasterPID: srv.PID(),
		PGData: srv.DataDir, Port: srv.Port, SocketDir: srv.SocketDir, User: "postgres",
	}
	if edit != nil {
		edit(&st)
	}
	dir := t.TempDir()
	require.NoError(t, state.Write(dir, st))
	return dir
}

func TestExitCodesAndLines(t *testing.T) {
	srv := pg.Need(t)
	where := regexp.QuoteMeta(fmt.Sprintf("(socket %s, port %d)", srv.SocketDir, srv.Port))
	running := stateDir(t, srv, nil)
	bootstrapping := stateDir(t, srv, func(s *state.State) { s.Phase = state.PhaseBootstrapping })
	sleeping := stateDir(t, srv, func(s *state.State) { s.Phase = state.PhaseSleeping; s.Mode = "sleep"; s.PostmasterPID = 0 })
	stopped := stateDir(t, srv, func(s *state.State) { s.SocketDir = t.TempDir(); s.PostmasterPID = deadPID(t); s.PGData = t.TempDir() })
	stale := stateDir(t, srv, func(s *state.State) { s.PID = deadPID(t) })
	cleanStop := stateDir(t, srv, func(s *state.State) { s.PID = deadPID(t); s.Phase = state.PhaseStopped; s.PostmasterPID = 0 })
	noFloors := []string{"--disk-min-free-percent", "0", "--disk-min-free-mb", "0"}

	tests := []struct {
		name  string
		args  []string
		state string
		env   map[string]string
		code  int
		line  string // regexp of the whole line
	}{
		{name: "readiness is the default", state: running, line: `^OK readiness: accepting connections ` + where + ` \d+\.\dms$`},
		{name: "readiness", args: []string{"readiness"}, state: running, line: `^OK readiness: accepting connections ` + where},
		{name: "bootstrapping with the temporary server up", state: bootstrapping, code: 1, line: `^FAIL readiness: bootstrapping \(temporary server\)$`},
		{name: "startup while bootstrapping", args: []string{"startup"}, state: bootstrapping, code: 1, line: `^FAIL startup: bootstrapping \(temporary server\)$`},
		{name: "postgresql while bootstrapping", args: []string{"postgresql"}, state: bootstrapping, code: 1, line: `^FAIL postgresql: bootstrapping`},
		{name: "sleep mode: not ready", state: sleeping, code: 1, line: `^FAIL readiness: sleep mode \(SLEEP_MODE\): PostgreSQL is not started on purpose$`},
		{name: "sleep mode: alive", args: []string{"liveness"}, state: sleeping, line: `^OK liveness: entrypoint pid \d+ alive \(phase sleeping\) `},
		{name: "sleep mode: started", args: []string{"startup"}, state: sleeping, line: `^OK startup: sleep mode \(SLEEP_MODE\): nothing to start `},
		{name: "server stopped: not ready", state: stopped, code: 1, line: `^FAIL readiness: no response \(socket .+\): connect: `},
		{name: "server stopped: postmaster pid gone", args: []string{"liveness"}, state: stopped, code: 1, line: `^FAIL liveness: postmaster: pid \d+ is not running$`},
		{name: "server stopped: no postgres process", args: []string{"process"}, state: stopped, code: 1, line: `^FAIL process: no postgres postmaster: pid \d+ is not running`},
		{name: "stale state file", state: stale, code: 1, line: `^FAIL readiness: stale state file: entrypoint pid \d+ is not running and did not record phase stopped$`},
		{name: "entrypoint stopped cleanly", state: cleanStop, code: 1, line: `^FAIL readiness: stopped: entrypoint pid \d+ exited after recording phase stopped at \S+$`},
		{name: "entrypoint stopped cleanly: liveness", args: []string{"liveness"}, state: cleanStop, code: 1, line: `^FAIL liveness: stopped: entrypoint pid \d+ exited`},
		{name: "no state file", state: t.TempDir(), code: 1, line: `^FAIL readiness: no state file `},
		{name: "liveness", args: []string{"liveness"}, state: running, line: `^OK liveness: entrypoint pid \d+ alive, postmaster pid \d+ alive \(phase running\) `},
		{name: "startup", args: []string{"startup"}, state: running, line: `^OK startup: started \(phase running, postmaster pid \d+ alive\) `},
		{name: "postgresql", args: []string{"postgresql"}, state: running, line: `^OK postgresql: accepting connections ` + where},
		{name: "process", args: []string{"process"}, state: running, line: fmt.Sprintf(`^OK process: postmaster pid %d is postgres `, srv.PID())},
		{name: "patroni not enabled", args: []string{"patroni"}, state: running, code: 1, line: `^FAIL patroni: patroni not enabled \(run mode direct\)$`},
		{name: "leader on a primary", args: []string{"leader"}, state: running, line: `^OK leader: role primary \(postmaster.pid says ready, not in recovery, mode direct\) \d+\.\dms$`},
		{name: "replica on a primary", args: []string{"replica"}, state: running, code: 1, line: `^FAIL replica: role primary, not replica \(postmaster.pid says ready, not in recovery\)$`},
		{name: "leader while bootstrapping", args: []string{"leader"}, state: bootstrapping, code: 1, line: `^FAIL leader: bootstrapping \(temporary server\)$`},
		{name: "comprehensive", args: append([]string{"comprehensive"}, noFloors...), state: running, line: `^OK comprehensive: all checks passed: postgresql, disk, process `},
		{name: "comprehensive names failures", args: []string{"comprehensive", "--disk-min-free-percent", "100"}, state: bootstrapping, code: 1,
			line: `^FAIL comprehensive: postgresql: bootstrapping \(temporary server\); disk: PGDATA .*below 100%$`},
		{name: "disk floors off", args: append([]string{"disk"}, noFloors...), state: running, line: `^OK disk: PGDATA .+ free of .+ \(\d+\.\d%\) `},
		{name: "disk below the percent floor", args: []string{"disk", "--disk-min-free-percent", "100"}, state: running, code: 1, line: `^FAIL disk: PGDATA .+, below 100%$`},
		{name: "disk below the byte floor (env)", args: []string{"disk"}, state: running, env: map[string]string{"PGDOCK_HEALTHCHECK_DISK_MIN_FREE_MB": "4000000000"}, code: 1,
			line: `^FAIL disk: PGDATA .+, below 3\.7 PiB$`},
		{name: "flags before the check", args: []string{"--timeout", "2s", "liveness"}, state: running, line: `^OK liveness: `},
		{name: "--host socket dir", args: []string{"--host", srv.SocketDir}, state: stopped, line: `^OK readiness: accepting connections`},

		{name: "unknown check", args: []string{"bogus"}, state: running, code: 1,
			line: `^FAIL pgdock-healthcheck: unknown check "bogus" \(want one of liveness, readiness, startup, postgresql, patroni, leader, replica, disk, process, comprehensive\)$`},
		{name: "argument after a check", args: []string{"liveness", "extra"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: liveness takes no arguments, got \["extra"\]$`},
		{name: "unknown flag", args: []string{"--bogus"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: unknown flag: --bogus \(see --help\)$`},
		{name: "flag without value", args: []string{"--timeout"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: flag needs an argument: --timeout`},
		{name: "bad timeout flag", args: []string{"--timeout", "soon"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: invalid argument "soon" for "--timeout"`},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: configuration: timeout 0s: want more than 0$`},
		{name: "bad format", args: []string{"--format", "xml"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: --format "xml": want text or json$`},
		{name: "bad environment", state: running, env: map[string]string{"PGDOCK_HEALTHCHECK_TIMEOUT": "soon", "PATRONI_REST_PORT": "x"}, code: 1,
			line: `^FAIL pgdock-healthcheck: environment: PGDOCK_HEALTHCHECK_TIMEOUT="soon": .* PATRONI_REST_PORT="x": `},
		{name: "huge MB floor", args: []string{"disk", "--disk-min-free-mb", "18446744073709551615"}, state: running, code: 1, line: `^FAIL pgdock-healthcheck: --disk-min-free-mb \d+: too large$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PGDOCK_STATE_DIR": tc.state}
			for k, v := range tc.env {
				env[k] = v
			}
			for how, got := range map[string]result{"binary": runBinary(t, env, tc.args...), "in-process": runInProcess(env, tc.args...)} {
				assert.Equal(t, tc.code, got.code, "%s exit code; output %q", how, got.stdout)
				lines := strings.Split(strings.TrimSuffix(got.stdout, "\n"), "\n")
				require.Len(t, lines, 1, "%s: exactly one line, got %q", how, got.stdout)
				assert.Regexp(t, tc.line, lines[0], how)
			}
		})
	}
}

func TestStateDirFlagOverridesEnv(t *testing.T) {
	srv := pg.Need(t)
	got := runBinary(t, map[string]string{"PGDOCK_STATE_DIR": t.TempDir()}, "--state-dir", stateDir(t, srv, nil))
	assert.Equal(t, 0, got.code, got.stdout)
}

func TestJSONOutput(t *testing.T) {
	srv := pg.Need(t)
	type report struct {
		Check   string `json:"check"`
		Healthy bool   `json:"healthy"`
		Message string `json:"message"`
		Checks  []struct {
			Check   string            `json:"check"`
			Healthy bool              `json:"healthy"`
			Message string            `json:"message"`
			Details map[string]string `json:"details"`
		} `json:"checks"`
		DurationMS *float64 `json:"duration_ms"`
	}
	decode := func(t *testing.T, r result) report {
		t.Helper()
		require.Equal(t, 1, strings.Count(r.stdout, "\n"), "one line: %q", r.stdout)
		var rep report
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&rep), r.stdout)
		require.NotNil(t, rep.DurationMS, "duration_ms present")
		return rep
	}

	env := map[string]string{"PGDOCK_STATE_DIR": stateDir(t, srv, nil)}
	got := runBinary(t, env, "--format", "json")
	require.Equal(t, 0, got.code)
	rep := decode(t, got)
	assert.Equal(t, "readiness", rep.Check)
	assert.True(t, rep.Healthy)
	assert.Equal(t, fmt.Sprintf("accepting connections (socket %s, port %d)", srv.SocketDir, srv.Port), rep.Message)
	require.Len(t, rep.Checks, 1)
	assert.Equal(t, "postgresql", rep.Checks[0].Check)
	assert.Equal(t, srv.SocketPath(), rep.Checks[0].Details["address"])
	assert.Positive(t, *rep.DurationMS)

	env = map[string]string{"PGDOCK_STATE_DIR": stateDir(t, srv, func(s *state.State) { s.Phase = state.PhaseBootstrapping })}
	got = runBinary(t, env, "comprehensive", "--format=json", "--disk-min-free-percent", "0", "--disk-min-free-mb", "0")
	require.Equal(t, 1, got.code)
	rep = decode(t, got)
	assert.Equal(t, "comprehensive", rep.Check)
	assert.False(t, rep.Healthy)
	assert.Equal(t, "postgresql: bootstrapping (temporary server)", rep.Message)
	var names []string
	for _, c := range rep.Checks {
		names = append(names, c.Check)
	}
	assert.Equal(t, []string{"postgresql", "disk", "process"}, names)

	got = runBinary(t, env, "bogus", "--format", "json")
	require.Equal(t, 1, got.code)
	rep = decode(t, got)
	assert.Equal(t, "pgdock-healthcheck", rep.Check)
	assert.Contains(t, rep.Message, `unknown check "bogus"`)
	assert.NotNil(t, rep.Checks)

	got = runBinary(t, env, "--format", "json", "--bogus")
	require.Equal(t, 1, got.code)
	assert.Contains(t, decode(t, got).Message, "unknown flag: --bogus", "flag errors are JSON too")
}

// TestNeverExitsTwo: whatever the command line, the exit code is 0 or 1.
func TestNeverExitsTwo(t *testing.T) {
	env := map[string]string{"PGDOCK_STATE_DIR": t.TempDir()}
	for _, args := range [][]string{
		nil, {"help"}, {"help", "bogus"}, {"--help"}, {"-h"}, {"--version"}, {"completion"}, {"completion", "bash"},
		{"-x"}, {"--"}, {"--", "liveness"}, {""}, {"liveness", "--timeout=-1s"}, {"--format"}, {"readiness", "readiness"},
		{"--disk-min-free-percent", "NaN", "disk"}, {"--disk-min-free-mb", "-5"}, {"--patroni-url", "::", "patroni"},
	} {
		got := runBinary(t, env, args...)
		assert.Contains(t, []int{0, 1}, got.code, "args %q: %q", args, got.stdout)
	}
	assert.Equal(t, 0, runBinary(t, env, "--version").code)
	assert.Contains(t, runBinary(t, env, "--help").stdout, "Usage:")
}

func TestPanicExitsOne(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"liveness"}, &out, nil, nil) // a nil getenv panics
	assert.Equal(t, 1, code)
	assert.Regexp(t, `^FAIL pgdock-healthcheck: internal error: .+\n$`, out.String())

	out.Reset()
	code = run([]string{"liveness", "--format", "json"}, &out, nil, nil)
	assert.Equal(t, 1, code)
	assert.True(t, json.Valid(out.Bytes()), out.String())
}

// examplePlugin is a real plugin served over gRPC in this process, so the
// binary probes it through the real sdk.ProbeHealth with reattach data.
type examplePlugin struct {
	sdk.Base
	health sdk.Health
}

func (p examplePlugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "example", Version: "1.0.0"}, nil
}

func (p examplePlugin) Health(context.Context) (sdk.Health, error) { return p.health, nil }

// servePlugin serves impl on a unix socket and returns its state entry.
func servePlugin(t *testing.T, name string, impl sdk.Plugin) state.Plugin {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "plugin.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := grpc.NewServer()
	require.NoError(t, (&sdk.GRPCPlugin{Impl: impl}).GRPCServer(nil, srv))
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return state.Plugin{Name: name, Version: "1.0.0", Reattach: state.Reattach{
		Protocol: "grpc", ProtocolVersion: sdk.ProtocolVersion, Network: "unix", Address: sock, Pid: os.Getpid(),
	}}
}

func TestPluginHealthThroughSDK(t *testing.T) {
	srv := pg.Need(t)
	healthy := servePlugin(t, "example", examplePlugin{health: sdk.Health{Healthy: true, Message: "fine", Details: map[string]string{"k": "v"}}})
	sick := servePlugin(t, "sick", examplePlugin{health: sdk.Health{Healthy: false, Message: "repository unreachable"}})
	gone := healthy
	gone.Name, gone.Reattach.Address = "gone", filepath.Join(t.TempDir(), "missing.sock")

	tests := []struct {
		name    string
		plugins []state.Plugin
		code    int
		line    string
	}{
		{name: "healthy plugin", plugins: []state.Plugin{healthy}, line: `^OK readiness: accepting connections \(.+\); plugins healthy: example \d`},
		{name: "unhealthy plugin", plugins: []state.Plugin{healthy, sick}, code: 1, line: `^FAIL readiness: plugin:sick: repository unreachable$`},
		{name: "plugin not reachable", plugins: []state.Plugin{gone}, code: 1, line: `^FAIL readiness: plugin:gone: probe failed: probe plugin gone: `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PGDOCK_STATE_DIR": stateDir(t, srv, func(s *state.State) { s.Plugins = tc.plugins })}
			got := runBinary(t, env)
			assert.Equal(t, tc.code, got.code, got.stdout)
			assert.Regexp(t, tc.line, strings.TrimSuffix(got.stdout, "\n"))
		})
	}

	// The probe leaves the plugin running: it still answers afterwards.
	env := map[string]string{"PGDOCK_STATE_DIR": stateDir(t, srv, func(s *state.State) { s.Plugins = []state.Plugin{healthy} })}
	for range 3 {
		require.Equal(t, 0, runBinary(t, env).code)
	}
	h, err := sdk.ProbeHealth(context.Background(), healthy)
	require.NoError(t, err)
	assert.True(t, h.Healthy)
}

// BenchmarkReadiness measures one readiness probe against a real server:
// in-process (the probe itself), through the built binary (what Docker
// runs, process start included), and pg_isready the same way, to compare.
func BenchmarkReadiness(b *testing.B) {
	srv := pg.Need(b)
	dir := stateDir(b, srv, nil)
	b.Run("in-process", func(b *testing.B) {
		cfg := check.DefaultConfig()
		cfg.StateDir = dir
		r := check.Runner{Config: cfg, Prober: newProber()}
		for b.Loop() {
			if rep := r.Run(context.Background(), check.Readiness); !rep.Healthy {
				b.Fatal(rep.Text())
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(binary)
			cmd.Env = []string{"PGDOCK_STATE_DIR=" + dir}
			if out, err := cmd.Output(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	isready := filepath.Join(pg.Env.BinDir, "pg_isready")
	if _, err := os.Stat(isready); err != nil {
		b.Logf("pg_isready not found, no comparison: %v", err)
		return
	}
	b.Run("pg_isready", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(isready, "-q", "-h", srv.SocketDir, "-p", fmt.Sprint(srv.Port), "-U", "postgres", "-d", "postgres", "-t", "5")
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
}

func TestTimeoutBoundsTheProbe(t *testing.T) {
	// A socket that accepts and never answers: the probe gives up at --timeout.
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL.5432"))
	require.NoError(t, err)
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	st := t.TempDir()
	require.NoError(t, state.Write(st, state.State{Phase: state.PhaseRunning, PID: os.Getpid(), Port: 5432, SocketDir: dir, User: "postgres"}))
	start := time.Now()
	got := runBinary(t, map[string]string{"PGDOCK_STATE_DIR": st}, "--timeout", "300ms")
	assert.Equal(t, 1, got.code)
	assert.Equal(t, fmt.Sprintf("FAIL readiness: no answer within 300ms (socket %s, port 5432)\n", dir), got.stdout)
	assert.Less(t, time.Since(start), 3*time.Second)
}

// TestVersion: `version` and --version print "pgdock-healthcheck <version>",
// the form pgdock-entrypoint's `version` prints.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		code := run(args, &out, func(string) string { return "" }, nil)
		assert.Equal(t, 0, code, "%q", args)
		assert.Equal(t, "pgdock-healthcheck "+version+"\n", out.String(), "%q", args)
	}
}
