package example

import (
	"context"
	"os"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// TestHooksOverTheWire calls the hooks through the SDK's gRPC adapters
// (sdktest.Serve), as the host does: what survives the protobuf conversion
// is what the host sees.
func TestHooksOverTheWire(t *testing.T) {
	c := sdktest.Serve(t, New(hclog.NewNullLogger(), os.Getenv))
	ctx := context.Background()
	problems, err := c.Validate(ctx, map[string]string{EnvGreeting: ""})
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Equal(t, EnvGreeting, problems[0].Var)
	conf, err := c.Configure(ctx, sdk.ConfigureRequest{Env: map[string]string{EnvGreeting: "hi"}, Server: sdk.Server{Port: 5432}})
	require.NoError(t, err)
	assert.Equal(t, []sdk.Setting{{Name: SettingGreeting, Value: "hi"}}, conf.Settings)
	require.Len(t, conf.Files, 1)
	assert.Equal(t, os.FileMode(0o600), conf.Files[0].Mode)
	cmd, err := c.ModeCommand(ctx, sdk.ModeCommandRequest{})
	require.NoError(t, err)
	assert.Nil(t, cmd)
}

// TestBinaryEveryHook builds the plugin command and starts it as the host
// does (sdktest.Launch: the handshake only works if nothing reaches stdout
// before sdk.Serve), then drives it through every hook.
func TestBinaryEveryHook(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the plugin binary")
	}
	c := sdktest.Launch(t, sdktest.Build(t, "./cmd/pgdock-plugin-example", Name))
	ctx := func(*testing.T) context.Context { return context.Background() }

	d, err := c.Describe(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "example", d.Name)
	assert.NotEmpty(t, d.Version)
	assert.True(t, d.Declares("EXAMPLE_GREETING"))
	assert.False(t, d.Declares("POSTGRES_PASSWORD"))
	assert.Equal(t, []sdk.Requirement{{Name: "psql", Package: "postgresql-client"}}, d.RequiredBinaries)
	assert.Empty(t, d.ProvidesMode)

	problems, err := c.Validate(ctx(t), map[string]string{"EXAMPLE_GREETING": ""})
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Equal(t, "EXAMPLE_GREETING", problems[0].Var)

	conf, err := c.Configure(ctx(t), sdk.ConfigureRequest{Env: map[string]string{"EXAMPLE_GREETING": "hi"}, Server: sdk.Server{Port: 5432}})
	require.NoError(t, err)
	assert.Equal(t, []sdk.Setting{{Name: "pgdock_example.greeting", Value: "hi"}}, conf.Settings)
	assert.Equal(t, []string{"host all all 192.0.2.0/24 reject"}, conf.HBARules)
	require.Len(t, conf.Files, 1)
	assert.Equal(t, "example.conf", conf.Files[0].Path)
	assert.EqualValues(t, 0o600, conf.Files[0].Mode)

	// No server listens there: the plugin's psql error comes back as a hook error.
	err = c.Bootstrap(ctx(t), sdk.HookRequest{Conn: sdk.Conn{SocketDir: t.TempDir(), Port: 1, User: "postgres", Database: "postgres"}})
	require.Error(t, err)
	assert.True(t, sdk.IsHookError(err), "%v", err)
	assert.Contains(t, err.Error(), "pgdock_example_bootstrap")

	require.NoError(t, c.Started(ctx(t), sdk.HookRequest{Conn: sdk.Conn{Port: 5432}}))
	h, err := c.Health(ctx(t))
	require.NoError(t, err)
	assert.True(t, h.Healthy)
	assert.Equal(t, "hi", h.Details["greeting"])
	require.NoError(t, c.Stopping(ctx(t)))
	cmd, err := c.ModeCommand(ctx(t), sdk.ModeCommandRequest{})
	require.NoError(t, err)
	assert.Nil(t, cmd, "the example provides no run mode")
}
