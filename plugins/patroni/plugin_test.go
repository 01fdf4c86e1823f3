package patroni

import (
	"context"
	"os"
	"path/filepath"
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

	_, err = p.ModeCommand(ctx, sdk.ModeCommandRequest{Env: env, Server: sdk.Server{PGData: "/data", Port: 5432}})
	assert.ErrorContains(t, err, "patroni.yml", "no files directory")

	server.FilesDir = t.TempDir()
	merged := sdk.MergedConfig{
		Settings:         []sdk.Setting{{Name: "work_mem", Value: "8MB"}},
		PreloadLibraries: []string{"citus"},
		HBARules:         []string{"host all all 198.51.100.0/24 reject"},
		Sections: []sdk.Section{
			{Target: "patroni", Name: "citus", Content: []byte(`{"group":1}`)},
			{Target: "other", Name: "ignored", Content: []byte(`{}`)},
		},
	}
	cmd, err := p.ModeCommand(ctx, sdk.ModeCommandRequest{Env: env, Server: server, Merged: merged})
	require.NoError(t, err)
	assert.True(t, cmd.OwnsBootstrap)
	assert.Equal(t, []string{"patroni", filepath.Join(server.FilesDir, "patroni.yml")}, cmd.Argv)
	assert.Equal(t, map[string]string{"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", EnvStateDir: "/run/pgdock"}, cmd.Env)
	// patroni.yml comes back with the command; the host writes it
	require.Len(t, cmd.Files, 1)
	assert.Equal(t, ConfigFile, cmd.Files[0].Path)
	assert.Equal(t, os.FileMode(0o600), cmd.Files[0].Mode)
	b := cmd.Files[0].Content
	for _, want := range []string{"work_mem: 8MB", "shared_preload_libraries: citus", "- host all all 198.51.100.0/24 reject", "citus:\n  group: 1"} {
		assert.Contains(t, string(b), want)
	}
	assert.NotContains(t, string(b), "ignored")
	entries, err := os.ReadDir(server.FilesDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the plugin writes no file itself")

	// A reload calls Configure again: the file keeps the merged configuration.
	conf, err = p.Configure(ctx, sdk.ConfigureRequest{Env: env, Server: server})
	require.NoError(t, err)
	assert.Equal(t, string(b), string(conf.Files[0].Content))

	st, err := p.ModeStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, sdk.RoleNone, st.Role, "nothing listens on REST port 1")
	assert.False(t, st.Ready)
	h, err = p.Health(ctx)
	require.NoError(t, err)
	assert.False(t, h.Healthy)
}
