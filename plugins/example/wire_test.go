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

// TestBinaryStarts builds the plugin command and starts it as the host does
// (sdktest.Launch): the handshake only works if nothing reaches stdout
// before sdk.Serve.
func TestBinaryStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the plugin binary")
	}
	c := sdktest.Launch(t, sdktest.Build(t, "./cmd/pgdock-plugin-example", Name))
	d, err := c.Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Name, d.Name, "the binary is pgdock-plugin-<Name>")
	h, err := c.Health(context.Background())
	require.NoError(t, err)
	assert.True(t, h.Healthy, h.Message)
}
