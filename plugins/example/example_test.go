package example

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func newPlugin(t *testing.T, knobs Knobs, procEnv map[string]string) *Plugin {
	t.Helper()
	return New(hclog.NewNullLogger(), knobs, func(k string) string { return procEnv[k] })
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name     string
		knobs    Knobs
		wantMode string
	}{
		{name: "default", wantMode: ""},
		{name: "pretending to provide a mode", knobs: Knobs{Mode: "demo"}, wantMode: "demo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := newPlugin(t, tt.knobs, nil).Describe(context.Background())
			require.NoError(t, err)
			assert.Equal(t, Name, d.Name)
			assert.Equal(t, Version, d.Version)
			assert.True(t, d.Declares("EXAMPLE_GREETING"))
			assert.True(t, d.IsSecret(EnvToken))
			assert.False(t, d.Declares("POSTGRES_PASSWORD"))
			assert.Equal(t, []sdk.Setting{{Name: SettingEnabled, Value: "on"}}, d.Settings)
			assert.Empty(t, d.PreloadLibraries)
			assert.Equal(t, []sdk.Requirement{{Name: "psql", Package: "postgresql-client"}}, d.RequiredBinaries)
			assert.Equal(t, tt.wantMode, d.ProvidesMode)
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantVars []string
	}{
		{name: "nothing set", env: map[string]string{}},
		{name: "greeting ok", env: map[string]string{EnvGreeting: "bonjour"}},
		{name: "greeting of exactly 64 characters", env: map[string]string{EnvGreeting: strings.Repeat("é", 64)}},
		{name: "empty greeting", env: map[string]string{EnvGreeting: ""}, wantVars: []string{EnvGreeting}},
		{name: "greeting too long", env: map[string]string{EnvGreeting: strings.Repeat("a", 65)}, wantVars: []string{EnvGreeting}},
		{name: "bad knobs, all reported", env: map[string]string{EnvCrashAfter: "soon", EnvHangAtStart: "-1s", EnvStdoutGarbage: "maybe"},
			wantVars: []string{EnvCrashAfter, EnvHangAtStart, EnvStdoutGarbage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := newPlugin(t, Knobs{}, nil).Validate(context.Background(), tt.env)
			require.NoError(t, err)
			var vars []string
			for _, p := range problems {
				vars = append(vars, p.Var)
				assert.NotEmpty(t, p.Message)
			}
			assert.Equal(t, tt.wantVars, vars)
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name         string
		env          map[string]string
		wantGreeting string
	}{
		{name: "default greeting", env: map[string]string{}, wantGreeting: DefaultGreeting},
		{name: "custom greeting", env: map[string]string{EnvGreeting: `it's "fine"`}, wantGreeting: `it's "fine"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := newPlugin(t, Knobs{}, nil).Configure(context.Background(), sdk.ConfigureRequest{Env: tt.env, Server: sdk.Server{Port: 5433, FirstBoot: true}})
			require.NoError(t, err)
			assert.Equal(t, []sdk.Setting{{Name: SettingGreeting, Value: tt.wantGreeting}}, c.Settings)
			assert.Equal(t, []string{HBARule}, c.HBARules)
			require.Len(t, c.Files, 1)
			assert.Equal(t, ConfFile, c.Files[0].Path)
			assert.Equal(t, os.FileMode(0o600), c.Files[0].Mode)
			assert.Contains(t, string(c.Files[0].Content), "first_boot = true")
			assert.Contains(t, string(c.Files[0].Content), "port = 5433")
		})
	}
}

func TestHealth(t *testing.T) {
	dir := t.TempDir()
	failFile := filepath.Join(dir, "fail")
	p := newPlugin(t, Knobs{}, nil)
	_, err := p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{EnvGreeting: "hi", EnvHealthFailFile: failFile}})
	require.NoError(t, err)

	h, err := p.Health(context.Background())
	require.NoError(t, err)
	assert.True(t, h.Healthy)
	assert.Equal(t, "hi", h.Details["greeting"])
	assert.Equal(t, EnvGreeting+","+EnvHealthFailFile, h.Details["env_keys"])
	assert.NotEmpty(t, h.Details["process_env_keys"])

	require.NoError(t, os.WriteFile(failFile, nil, 0o600))
	h, err = p.Health(context.Background())
	require.NoError(t, err)
	assert.False(t, h.Healthy)
	assert.Contains(t, h.Message, failFile)
}

func TestHealthFailFileFromProcessEnv(t *testing.T) {
	failFile := filepath.Join(t.TempDir(), "fail")
	require.NoError(t, os.WriteFile(failFile, nil, 0o600))
	h, err := newPlugin(t, Knobs{}, map[string]string{EnvHealthFailFile: failFile}).Health(context.Background())
	require.NoError(t, err)
	assert.False(t, h.Healthy)
}

func TestStartedStoppingModeCommand(t *testing.T) {
	p := newPlugin(t, Knobs{}, map[string]string{"PATH": "/usr/bin:/bin"})
	var out strings.Builder
	p.stdout = &out
	require.NoError(t, p.Started(context.Background(), sdk.HookRequest{Conn: sdk.Conn{Port: 5432}}))
	require.NoError(t, p.Stopping(context.Background()))
	assert.Equal(t, "example plugin: stopping (plain stdout line)\n", out.String())
	cmd, err := p.ModeCommand(context.Background(), sdk.ModeCommandRequest{})
	require.NoError(t, err)
	assert.Nil(t, cmd)

	p = newPlugin(t, Knobs{Mode: "demo"}, map[string]string{"PATH": "/usr/bin:/bin"})
	cmd, err = p.ModeCommand(context.Background(), sdk.ModeCommandRequest{Server: sdk.Server{PGData: "/data"}})
	require.NoError(t, err)
	assert.Equal(t, &sdk.Command{
		Argv:       []string{"sleep", "infinity"},
		Env:        map[string]string{"PATH": "/usr/bin:/bin", EnvGreeting: DefaultGreeting},
		Dir:        "/data",
		StopSignal: "SIGINT",
	}, cmd)
}

func TestKnobsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Knobs
		wantErr int
	}{
		{name: "none", env: map[string]string{}},
		{name: "all", env: map[string]string{EnvCrashAfter: "2s", EnvHangAtStart: "1m", EnvStdoutGarbage: "YES", EnvMode: "demo", EnvSpawnChild: "1"},
			want: Knobs{CrashAfter: 2 * time.Second, HangAtStart: time.Minute, StdoutGarbage: true, Mode: "demo", SpawnChild: true}},
		{name: "garbage off", env: map[string]string{EnvStdoutGarbage: "off"}},
		{name: "bad values", env: map[string]string{EnvCrashAfter: "x", EnvHangAtStart: "-5s", EnvStdoutGarbage: "2", EnvSpawnChild: "?"}, wantErr: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, errs := KnobsFromEnv(func(s string) string { return tt.env[s] })
			assert.Len(t, errs, tt.wantErr)
			if tt.wantErr == 0 {
				assert.Equal(t, tt.want, k)
			}
		})
	}
}
