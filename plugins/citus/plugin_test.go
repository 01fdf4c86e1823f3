package citus

import (
	"context"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

func newTestPlugin() *Plugin { return New(hclog.NewNullLogger(), Options{}) }

func TestDescribe(t *testing.T) {
	d, err := newTestPlugin().Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Name, d.Name)
	assert.Equal(t, []sdk.PreloadLibrary{{Name: "citus", Order: sdk.PreloadFirst}}, d.PreloadLibraries)
	require.Len(t, d.RequiredExtensions, 1)
	assert.Equal(t, "citus", d.RequiredExtensions[0].Name)
	assert.Contains(t, d.RequiredExtensions[0].Package, "citus")
	assert.True(t, d.IsSecret(EnvCoordinatorPassword))
	assert.True(t, d.IsSecret(EnvPostgresPassword))
	assert.True(t, d.Declares(EnvGroup))
	assert.True(t, d.Declares(EnvPostgresDB))
	assert.True(t, d.Declares(EnvPatroniEnable))
	assert.Equal(t, []string{"patroni"}, d.After)
}

func TestConfigure(t *testing.T) {
	p := newTestPlugin()
	c, err := p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"CITUS_ROLE": "coordinator"}})
	require.NoError(t, err)
	assert.Equal(t, []sdk.Setting{{Name: "max_prepared_transactions", Value: "200"}}, c.Settings)
	assert.Empty(t, c.Sections)

	c, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"CITUS_GROUP": "1", "POSTGRES_DB": "app", "PATRONI_ENABLE": "true"}})
	require.NoError(t, err)
	assert.Empty(t, c.Settings, "Patroni sets what Citus needs")
	require.Len(t, c.Sections, 1)
	assert.Equal(t, "patroni", c.Sections[0].Target)
	assert.Equal(t, "citus", c.Sections[0].Name)
	assert.JSONEq(t, `{"group":1,"database":"app"}`, string(c.Sections[0].Content))

	_, err = p.Configure(context.Background(), sdk.ConfigureRequest{Env: map[string]string{"CITUS_ROLE": "x", "CITUS_COORDINATOR_PASSWORD": "hunter2"}})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

// Under Patroni and on a replica the plugin issues no SQL at all: the
// connection points at nothing, so any attempt would fail the hook.
func TestNoSQLUnderPatroniOrOnAReplica(t *testing.T) {
	nowhere := sdk.Conn{SocketDir: "/nonexistent", Port: 1, User: "postgres", Database: "postgres"}
	ctx := context.Background()
	p := newTestPlugin()
	patroni := map[string]string{"CITUS_GROUP": "0", "PATRONI_ENABLE": "true"}
	require.NoError(t, p.Bootstrap(ctx, sdk.HookRequest{Env: patroni, Conn: nowhere}))
	require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: patroni, Conn: nowhere, Role: sdk.RolePrimary}))
	h, _ := p.Health(ctx)
	assert.True(t, h.Healthy)
	assert.Contains(t, h.Message, "Patroni manages")

	worker := map[string]string{"CITUS_ROLE": "worker", "CITUS_COORDINATOR_HOST": "coord"}
	for _, role := range []sdk.Role{sdk.RoleReplica, sdk.RoleNone} {
		require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: worker, Conn: nowhere, Role: role}))
		h, _ = p.Health(ctx)
		assert.True(t, h.Healthy)
		assert.Contains(t, h.Message, "nothing to do")
	}
	// A primary does connect (and fails here: nothing listens).
	require.Error(t, p.Started(ctx, sdk.HookRequest{Env: worker, Conn: nowhere, Role: sdk.RolePrimary}))
}

func TestServes(t *testing.T) {
	c := sdktest.Serve(t, newTestPlugin())
	d, err := c.Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Name, d.Name)
	assert.Equal(t, sdk.PreloadFirst, d.PreloadLibraries[0].Order)
}
