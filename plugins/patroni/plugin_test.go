package patroni

import (
	"context"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestDescribe(t *testing.T) {
	p := New(hclog.NewNullLogger(), func(string) string { return "" }, fakeSystem())
	d, err := p.Describe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Mode, d.ProvidesMode)
	assert.Equal(t, "patroni", d.RequiredBinaries[0].Name)
	for _, v := range []string{EnvEnable, EnvScope, EnvETCDHosts, EnvETCDHost, EnvETCDPort, EnvReplicationPass, EnvPostgresPassword, EnvPGConnectHost, EnvStateDir} {
		assert.True(t, d.Declares(v), v)
	}
	for _, v := range []string{EnvReplicationPass, EnvPostgresPassword, EnvRESTPassword} {
		assert.True(t, d.IsSecret(v), v)
	}
	assert.False(t, d.Declares("PGDATA"))
}

func TestPluginHooks(t *testing.T) {
	parent := map[string]string{"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
	p := New(hclog.NewNullLogger(), func(k string) string { return parent[k] }, fakeSystem())
	ctx := context.Background()

	problems, err := p.Validate(ctx, map[string]string{})
	require.NoError(t, err)
	assert.NotEmpty(t, problems)

	h, err := p.Health(ctx)
	require.NoError(t, err)
	assert.True(t, h.Healthy, "healthy before configuration: the host probes plugins early")

	server := sdk.Server{PGData: "/data", Port: 5432, SocketDir: "/run/pg", Superuser: "postgres", FilesDir: "/run/pgdock/files/patroni"}
	_, err = p.Configure(ctx, sdk.ConfigureRequest{Env: map[string]string{}, Server: server})
	assert.ErrorContains(t, err, EnvReplicationPass)

	env := with(EnvRESTPort, "1", EnvStateDir, "/run/pgdock")
	conf, err := p.Configure(ctx, sdk.ConfigureRequest{Env: env, Server: server})
	require.NoError(t, err)
	require.Len(t, conf.Files, 1)
	assert.Equal(t, ConfigFile, conf.Files[0].Path)
	assert.Contains(t, string(conf.Files[0].Content), "data_dir: /data")

	cmd, err := p.ModeCommand(ctx, sdk.ModeCommandRequest{Env: env, Server: server})
	require.NoError(t, err)
	assert.Equal(t, []string{"patroni", "/run/pgdock/files/patroni/patroni.yml"}, cmd.Argv)
	assert.Equal(t, map[string]string{"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", EnvStateDir: "/run/pgdock"}, cmd.Env)

	st, err := p.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, RoleNone, st.Role, "nothing listens on REST port 1")
	h, err = p.Health(ctx)
	require.NoError(t, err)
	assert.False(t, h.Healthy)
}
