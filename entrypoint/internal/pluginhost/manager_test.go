package pluginhost

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestStartDescribeValidateConfigureHealth(t *testing.T) {
	f := newFixture(t, map[string]string{
		"EXAMPLE_GREETING":  "hi",
		"EXAMPLE_TOKEN":     "tok",    // declared secret: hooks only
		"POSTGRES_PASSWORD": "secret", // not declared: never
		"UNRELATED":         "1",
	})
	m := f.start(t)

	ds := m.Descriptions()
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, "example", d.Name)
	assert.Equal(t, "0.1.0", d.Version)
	assert.Equal(t, sdk.ProtocolVersion, d.ProtocolVersion)
	assert.Positive(t, d.Pid)
	assert.Positive(t, d.StartDuration)
	assert.Equal(t, CrashFail, d.CrashPolicy)
	assert.Equal(t, filepath.Join(f.dir, "pgdock-plugin-example"), d.Binary)

	entries := m.StateEntries()
	require.Len(t, entries, 1)
	assert.Equal(t, "example", entries[0].Name)
	assert.Equal(t, "grpc", entries[0].Reattach.Protocol)
	assert.Equal(t, "unix", entries[0].Reattach.Network)
	assert.Equal(t, d.Pid, entries[0].Reattach.Pid)
	assert.True(t, strings.HasPrefix(entries[0].Reattach.Address, f.sockets+"/"), entries[0].Reattach.Address)

	assert.Empty(t, m.Validate(testCtx(t)))

	in := ConfigureInput{PGData: "/data", Port: 5432, SocketDir: "/run/postgresql", Superuser: "postgres", Database: "app", FirstBoot: true, FilesDir: "/run/pgdock/files"}
	c, err := m.Configure(testCtx(t), in)
	require.NoError(t, err)
	assert.Equal(t, []Setting{
		{Name: "pgdock_example.enabled", Value: "on", Plugin: "example"},
		{Name: "pgdock_example.greeting", Value: "hi", Plugin: "example"},
	}, c.Settings)
	assert.Empty(t, c.PreloadLibraries)
	assert.Equal(t, []string{"host all all 192.0.2.0/24 reject"}, c.HBARules)
	require.Len(t, c.Files, 1)
	assert.Equal(t, "/run/pgdock/files/example/example.conf", c.Files[0].Path)
	assert.Equal(t, os.FileMode(0o600), c.Files[0].Mode)
	assert.Equal(t, "example", c.Files[0].Plugin)
	assert.Contains(t, string(c.Files[0].Content), `greeting = "hi"`)

	health := m.Health(testCtx(t))
	require.Len(t, health, 1)
	assert.True(t, health[0].Healthy, health[0].Message)
	assert.Equal(t, "example", health[0].Plugin)

	t.Run("env filtering", func(t *testing.T) {
		hookEnv := strings.Split(health[0].Details["env_keys"], ",")
		assert.Equal(t, []string{"EXAMPLE_ENABLE", "EXAMPLE_GREETING", "EXAMPLE_TOKEN"}, hookEnv,
			"hooks get exactly the declared variables, secrets included")
		procEnv := strings.Split(health[0].Details["process_env_keys"], ",")
		assert.Contains(t, procEnv, "PATH")
		assert.Contains(t, procEnv, "EXAMPLE_GREETING", "the plugin's namespace is in its start env")
		assert.Contains(t, procEnv, sdk.EnvLogLevel)
		for _, hidden := range []string{"POSTGRES_PASSWORD", "UNRELATED", "EXAMPLE_TOKEN"} {
			assert.NotContains(t, procEnv, hidden, "undeclared and secret-looking variables stay out of the process env")
		}
	})
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []Problem
	}{
		{
			name: "plugin's own validation",
			env:  map[string]string{"EXAMPLE_GREETING": strings.Repeat("x", 65)},
			want: []Problem{{Plugin: "example", Var: "EXAMPLE_GREETING", Message: "is 65 characters long, at most 64 are accepted"}},
		},
		{
			name: "required program missing",
			env:  map[string]string{"PATH": "/nonexistent"},
			want: []Problem{{Plugin: "example", Var: "EXAMPLE_ENABLE",
				Message: `requires the program "psql", which is not in PATH (/nonexistent); install the Debian package "postgresql-client" in the image`, Missing: true}},
		},
		{
			name: "bad crash policies",
			env:  map[string]string{"EXAMPLE_CRASH_POLICY": "explode", EnvCrashPolicy: "shrug"},
			want: []Problem{
				{Plugin: "example", Var: EnvCrashPolicy, Message: `crash policy "shrug" is not one of fail, continue`},
				{Plugin: "example", Var: "EXAMPLE_CRASH_POLICY", Message: `crash policy "explode" is not one of fail, continue`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFixture(t, tt.env).start(t)
			assert.Equal(t, tt.want, m.Validate(testCtx(t)))
		})
	}
}

func TestHealthFailFile(t *testing.T) {
	failFile := filepath.Join(t.TempDir(), "fail")
	m := newFixture(t, map[string]string{"EXAMPLE_HEALTH_FAIL_FILE": failFile}).start(t)
	require.NoError(t, os.WriteFile(failFile, nil, 0o600))
	h := m.Health(testCtx(t))
	require.Len(t, h, 1)
	assert.False(t, h[0].Healthy)
	assert.Contains(t, h[0].Message, failFile)
}

func TestStartRefusals(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, f *fixture)
		want    []string
	}{
		{
			name:    "checksum mismatch",
			prepare: func(t *testing.T, f *fixture) { f.writeSums(t, strings.Repeat("ab", 32)+"  pgdock-plugin-example\n") },
			want:    []string{"plugin example", "checksum mismatch", "pgdock-plugin-example", strings.Repeat("ab", 32), sha256File(t, exampleBin)},
		},
		{
			name:    "missing checksum entry",
			prepare: func(t *testing.T, f *fixture) { f.writeSums(t, strings.Repeat("ab", 32)+"  pgdock-plugin-other\n") },
			want:    []string{"plugin example", "has no entry in", ChecksumFile, "refusing"},
		},
		{
			name:    "missing checksum list",
			prepare: func(t *testing.T, f *fixture) { require.NoError(t, os.Remove(filepath.Join(f.dir, ChecksumFile))) },
			want:    []string{"checksum list", "is missing"},
		},
		{
			name:    "malformed checksum list",
			prepare: func(t *testing.T, f *fixture) { f.writeSums(t, "not a checksum line\n") },
			want:    []string{"line 1", "sha256 hex"},
		},
		{
			name:    "enabled but absent",
			prepare: func(t *testing.T, f *fixture) { f.opts.Env["CITUS_ENABLE"] = "on" },
			want:    []string{"plugin citus is enabled (CITUS_ENABLE=on)", "pgdock-plugin-citus is not in the plugin directory", "PGDOCK_PLUGIN_DIR"},
		},
		{
			name:    "bad enable value",
			prepare: func(t *testing.T, f *fixture) { f.opts.Env["EXAMPLE_ENABLE"] = "sure" },
			want:    []string{`EXAMPLE_ENABLE="sure"`, "must be a boolean"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			tt.prepare(t, f)
			m, err := Start(testCtx(t), f.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
			if tt.name == "enabled but absent" {
				assert.Contains(t, err.Error(), f.dir)
			}
			assert.Empty(t, processesRunning(t, f.dir), "nothing was started")
		})
	}
}

func TestStartFailuresAreBoundedAndLeaveNothing(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		timeout time.Duration
		want    []string
	}{
		{
			name:    "stdout before the handshake",
			env:     map[string]string{"FAULTY_STDOUT_GARBAGE": "true"},
			timeout: 5 * time.Second,
			want:    []string{"plugin faulty", "handshake failed", `wrote "faulty plugin: garbage before the handshake" to stdout`, "must print nothing to stdout"},
		},
		{
			name:    "hangs at start",
			env:     map[string]string{"FAULTY_HANG_AT_START": "1m", "FAULTY_IGNORE_TERM": "true"},
			timeout: time.Second,
			want:    []string{"plugin faulty", "no handshake within 1s", "killed"},
		},
		{
			name:    "exits before the handshake",
			env:     map[string]string{"FAULTY_CRASH_AFTER": "bogus"},
			timeout: 5 * time.Second,
			want:    []string{"plugin faulty", "exited before the handshake", "bad knob", "FAULTY_CRASH_AFTER"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultyFixture(t, tt.env)
			f.opts.StartTimeout = tt.timeout
			begin := time.Now()
			m, err := Start(testCtx(t), f.opts)
			took := time.Since(begin)
			require.ErrorIs(t, err, ErrHandshake)
			assert.Nil(t, m)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
			assert.Less(t, took, tt.timeout+3*time.Second, "bounded by the start timeout")
			assert.Empty(t, processesRunning(t, f.dir), "no plugin process left behind")
			left, _ := os.ReadDir(f.sockets)
			assert.Empty(t, left, "socket directories removed")
		})
	}
}

func TestCrashMidRun(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		policy CrashPolicy
	}{
		{name: "default policy fails", policy: CrashFail},
		{name: "per-plugin override", env: map[string]string{EnvCrashPolicy: "fail", "FAULTY_CRASH_POLICY": "Continue"}, policy: CrashContinue},
		{name: "global setting", env: map[string]string{EnvCrashPolicy: "continue"}, policy: CrashContinue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"FAULTY_CRASH_AFTER": "300ms"}
			for k, v := range tt.env {
				env[k] = v
			}
			f := newFaultyFixture(t, env)
			m := f.start(t)
			pid := m.Descriptions()[0].Pid
			select {
			case ev := <-m.Crashed():
				assert.Equal(t, "faulty", ev.Plugin)
				assert.Equal(t, pid, ev.Pid)
				assert.Equal(t, 3, ev.ExitCode)
				assert.EqualError(t, ev.Err, "exit status 3")
				assert.Equal(t, tt.policy, ev.Policy)
				assert.Contains(t, strings.Join(ev.Output, "\n"), "[ERROR] crashing on purpose")
			case <-time.After(10 * time.Second):
				t.Fatal("no crash event")
			}
			crashLog := f.logs.FilterMessage("plugin exited unexpectedly").All()
			require.Len(t, crashLog, 1)
			assert.Equal(t, zapcore.ErrorLevel, crashLog[0].Level)
			assert.Equal(t, "faulty", crashLog[0].ContextMap()["plugin"])
			assert.NotEmpty(t, crashLog[0].ContextMap()["last_output"])

			h := m.Health(testCtx(t))
			assert.False(t, h[0].Healthy)
			m.Stopping(testCtx(t)) // skips the dead plugin
			m.Stop()
			assert.Empty(t, processesRunning(t, f.dir))
		})
	}
}

func TestStopLeavesNoProcess(t *testing.T) {
	f := newFixture(t, nil)
	m := f.start(t)
	pid := m.Descriptions()[0].Pid
	require.NoError(t, syscall.Kill(pid, 0))
	pgid, err := syscall.Getpgid(pid)
	require.NoError(t, err)
	assert.Equal(t, pid, pgid, "the plugin leads its own process group")
	assert.NotEqual(t, syscall.Getpgrp(), pgid)

	m.Stopping(testCtx(t))
	done := make(chan struct{})
	go func() { m.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	m.Stop() // idempotent

	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "plugin process gone")
	assert.ErrorIs(t, syscall.Kill(-pgid, 0), syscall.ESRCH, "process group gone")
	assert.Empty(t, processesRunning(t, f.dir))
	left, _ := os.ReadDir(f.sockets)
	assert.Empty(t, left, "socket directory removed")
	select {
	case ev := <-m.Crashed():
		t.Fatalf("a clean stop is not a crash: %+v", ev)
	default:
	}
}

func TestStopKillsAHungPlugin(t *testing.T) {
	f := newFixture(t, nil)
	f.opts.StopGrace = 200 * time.Millisecond
	m := f.start(t)
	pid := m.Descriptions()[0].Pid
	// A stopped process answers nothing: graceful shutdown cannot work.
	require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
	begin := time.Now()
	m.Stop()
	assert.Less(t, time.Since(begin), 5*time.Second)
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestPluginLogsReachZapAtTheirLevel(t *testing.T) {
	f := newFixture(t, nil)
	m := f.start(t)
	require.NoError(t, m.Started(testCtx(t), Conn{Port: 5999}, sdk.RolePrimary))
	m.Stopping(testCtx(t))
	require.Eventually(t, func() bool {
		return f.logs.FilterMessage("postgres is ready").Len() == 1 && f.logs.FilterMessage("stopping").Len() == 1
	}, 5*time.Second, 20*time.Millisecond)
	// A plain stdout line written after the handshake arrives at info.
	require.Eventually(t, func() bool {
		return f.logs.FilterMessage("example plugin: stopping (plain stdout line)").Len() == 1
	}, 5*time.Second, 20*time.Millisecond)
	plain := f.logs.FilterMessage("example plugin: stopping (plain stdout line)").All()[0]
	assert.Equal(t, zapcore.InfoLevel, plain.Level)
	assert.Equal(t, "stdout", plain.ContextMap()["stream"])
	assert.Equal(t, "example", plain.ContextMap()["plugin"])

	e := f.logs.FilterMessage("postgres is ready").All()[0]
	assert.Equal(t, zapcore.InfoLevel, e.Level)
	ctx := e.ContextMap()
	assert.Equal(t, "example", ctx["plugin"])
	assert.EqualValues(t, 5999, ctx["port"])
	assert.NotContains(t, ctx, "timestamp")
	assert.NotContains(t, ctx, "source", "the plugin's own line, not go-plugin's")

	// go-plugin's own chatter is demoted to debug.
	for _, e := range f.logs.All() {
		if e.ContextMap()["source"] == "go-plugin" {
			assert.Equal(t, zapcore.DebugLevel, e.Level, e.Message)
		}
	}
}

func TestBootstrapErrorNamesThePlugin(t *testing.T) {
	m := newFixture(t, nil).start(t)
	err := m.Bootstrap(testCtx(t), Conn{SocketDir: t.TempDir(), Port: 1, User: "postgres", Database: "postgres"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "plugin example: bootstrap: record bootstrap in postgres.pgdock_example_bootstrap")
	assert.True(t, sdk.IsHookError(err))
}

func TestModeCommand(t *testing.T) {
	t.Run("no provider", func(t *testing.T) {
		m := newFixture(t, nil).start(t)
		cmd, err := m.ModeCommand(testCtx(t), sdk.MergedConfig{}, nil)
		require.NoError(t, err)
		assert.Nil(t, cmd)
	})
	t.Run("provider", func(t *testing.T) {
		m := newFaultyFixture(t, map[string]string{"FAULTY_MODE": "demo"}).start(t)
		_, err := m.ModeCommand(testCtx(t), sdk.MergedConfig{}, nil)
		require.ErrorContains(t, err, "before Configure")
		_, err = m.Configure(testCtx(t), ConfigureInput{PGData: "/data", FilesDir: t.TempDir()})
		require.NoError(t, err)
		cmd, err := m.ModeCommand(testCtx(t), sdk.MergedConfig{}, nil)
		require.NoError(t, err)
		assert.Equal(t, &Command{
			Plugin:     "faulty",
			Mode:       "demo",
			Argv:       []string{"sleep", "infinity"},
			Env:        []string{"FAULTY_MODE=demo", "PATH=" + os.Getenv("PATH")},
			Dir:        "/data",
			StopSignal: syscall.SIGINT,
		}, cmd)
	})
}

func TestConfigureNeedsFilesDir(t *testing.T) {
	m := newFixture(t, nil).start(t)
	_, err := m.Configure(testCtx(t), ConfigureInput{})
	require.ErrorContains(t, err, "plugin example: returned files but ConfigureInput.FilesDir is empty")
}

func TestNothingEnabled(t *testing.T) {
	f := newFixture(t, map[string]string{"EXAMPLE_ENABLE": "false"})
	m := f.start(t)
	assert.Empty(t, m.Descriptions())
	assert.Empty(t, m.StateEntries())
	assert.Empty(t, m.Validate(testCtx(t)))
	c, err := m.Configure(testCtx(t), ConfigureInput{})
	require.NoError(t, err)
	assert.Equal(t, Contribution{}, c)
	require.NoError(t, m.Bootstrap(testCtx(t), Conn{}))
	require.NoError(t, m.Started(testCtx(t), Conn{}, sdk.RolePrimary))
	cmd, err := m.ModeCommand(testCtx(t), sdk.MergedConfig{}, nil)
	require.NoError(t, err)
	assert.Nil(t, cmd)
	assert.Empty(t, m.Health(testCtx(t)))
	m.Stopping(testCtx(t))
	m.Stop()
	var nilManager *Manager
	nilManager.Stop()
	assert.Empty(t, processesRunning(t, f.dir))
}

func TestErrorsAreWrapped(t *testing.T) {
	f := newFixture(t, nil)
	f.opts.Dir = filepath.Join(f.dir, "file")
	require.NoError(t, os.WriteFile(f.opts.Dir, nil, 0o600))
	_, err := Start(testCtx(t), f.opts)
	require.Error(t, err)
	var pe *os.PathError
	assert.True(t, errors.As(err, &pe), "%T: %v", err, err)
}
