package example

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func newPlugin(t *testing.T, procEnv map[string]string) *Plugin {
	t.Helper()
	return New(hclog.NewNullLogger(), func(k string) string { return procEnv[k] })
}

func TestDescribe(t *testing.T) {
	d, err := newPlugin(t, nil).Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Name, d.Name)
	assert.Equal(t, Version, d.Version)
	assert.True(t, d.Declares("EXAMPLE_GREETING"))
	assert.True(t, d.IsSecret(EnvToken))
	assert.False(t, d.Declares("POSTGRES_PASSWORD"))
	assert.Equal(t, []sdk.Setting{{Name: SettingEnabled, Value: "on"}}, d.Settings)
	assert.Empty(t, d.PreloadLibraries)
	assert.Equal(t, []sdk.Requirement{{Name: "psql", Package: "postgresql-client"}}, d.RequiredBinaries)
	assert.Empty(t, d.ProvidesMode, "the example provides no run mode")
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := newPlugin(t, nil).Validate(context.Background(), tt.env)
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
			c, err := newPlugin(t, nil).Configure(context.Background(), sdk.ConfigureRequest{Env: tt.env, Server: sdk.Server{Port: 5433, FirstBoot: true}})
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
	p := newPlugin(t, nil)
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
	h, err := newPlugin(t, map[string]string{EnvHealthFailFile: failFile}).Health(context.Background())
	require.NoError(t, err)
	assert.False(t, h.Healthy)
}

func TestStartedStoppingModeCommand(t *testing.T) {
	p := newPlugin(t, map[string]string{"PATH": "/usr/bin:/bin"})
	var out strings.Builder
	p.stdout = &out
	require.NoError(t, p.Started(context.Background(), sdk.HookRequest{Conn: sdk.Conn{Port: 5432}}))
	require.NoError(t, p.Stopping(context.Background()))
	assert.Equal(t, "example plugin: stopping (plain stdout line)\n", out.String())
	cmd, err := p.ModeCommand(context.Background(), sdk.ModeCommandRequest{})
	require.NoError(t, err)
	assert.Nil(t, cmd)
}
