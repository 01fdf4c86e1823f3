package sdk_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestEnvDeclarations(t *testing.T) {
	d := sdk.Description{Env: []sdk.EnvVar{
		{Name: "EXAMPLE_", Prefix: true},
		{Name: "EXAMPLE_TOKEN", Secret: true},
		{Name: "POSTGRES_DB"},
	}}
	tests := []struct {
		name             string
		declared, secret bool
	}{
		{"EXAMPLE_GREETING", true, false},
		{"EXAMPLE_TOKEN", true, true},
		{"EXAMPLE_", true, false},
		{"EXAMPLE", false, false},
		{"POSTGRES_DB", true, false},
		{"POSTGRES_DB_FILE", false, false},
		{"POSTGRES_PASSWORD", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.declared, d.Declares(tt.name))
			assert.Equal(t, tt.secret, d.IsSecret(tt.name))
		})
	}
	env := map[string]string{"EXAMPLE_A": "1", "EXAMPLE_TOKEN": "t", "POSTGRES_DB": "app", "POSTGRES_PASSWORD": "pw", "PATH": "/bin"}
	assert.Equal(t, map[string]string{"EXAMPLE_A": "1", "EXAMPLE_TOKEN": "t", "POSTGRES_DB": "app"}, d.FilterEnv(env))
	assert.Empty(t, sdk.Description{}.FilterEnv(env))
}

func TestEnvPrefix(t *testing.T) {
	tests := map[string]string{
		"example":         "EXAMPLE_",
		"pg-stat-monitor": "PG_STAT_MONITOR_",
		"pgbackrest":      "PGBACKREST_",
	}
	for name, want := range tests {
		assert.Equal(t, want, sdk.EnvPrefix(name), name)
	}
}

type onlyDescribe struct{ sdk.Base }

func (onlyDescribe) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "min"}, nil
}

func TestBaseDefaults(t *testing.T) {
	var p sdk.Plugin = onlyDescribe{}
	c := context.Background()
	problems, err := p.Validate(c, nil)
	require.NoError(t, err)
	assert.Empty(t, problems)
	conf, err := p.Configure(c, sdk.ConfigureRequest{})
	require.NoError(t, err)
	assert.Equal(t, sdk.Configuration{}, conf)
	require.NoError(t, p.Bootstrap(c, sdk.HookRequest{}))
	require.NoError(t, p.Started(c, sdk.HookRequest{}))
	require.NoError(t, p.Stopping(c))
	h, err := p.Health(c)
	require.NoError(t, err)
	assert.True(t, h.Healthy)
	cmd, err := p.ModeCommand(c, sdk.ModeCommandRequest{})
	require.NoError(t, err)
	assert.Nil(t, cmd)
}

func TestNewLoggerLevelFromHost(t *testing.T) {
	tests := []struct {
		env         string
		debug, info bool
	}{
		{env: "", info: true},
		{env: "debug", debug: true, info: true},
		{env: "warn"},
		{env: "nonsense", info: true},
	}
	for _, tt := range tests {
		t.Run("level="+tt.env, func(t *testing.T) {
			t.Setenv(sdk.EnvLogLevel, tt.env)
			l := sdk.NewLogger("x")
			assert.Equal(t, tt.debug, l.IsDebug())
			assert.Equal(t, tt.info, l.IsInfo())
			assert.True(t, l.IsError())
		})
	}
}

func TestNewLoggerWritesJSONToStderr(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	orig := os.Stderr
	os.Stderr = w
	l := sdk.NewLogger("json")
	os.Stderr = orig
	l.Info("hello", "k", "v")
	require.NoError(t, w.Close())
	var buf bytes.Buffer
	_, err = buf.ReadFrom(r)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"@message":"hello"`)
	assert.Contains(t, buf.String(), `"@level":"info"`)
	assert.Contains(t, buf.String(), `"k":"v"`)
}

func TestProblemsError(t *testing.T) {
	tests := []struct {
		name     string
		problems []sdk.Problem
		want     string
	}{
		{"none", nil, ""},
		{"one", []sdk.Problem{{Var: "A_B", Message: "must be set"}}, "A_B: must be set"},
		{"several, one without a variable", []sdk.Problem{{Var: "A", Message: "bad"}, {Message: "cycle"}}, "A: bad; cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sdk.ProblemsError(tt.problems)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("want nil, got %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("want %q, got %v", tt.want, err)
			}
		})
	}
}
