package app

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/render"
	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestDirectRole(t *testing.T) {
	pidFile := func(status string) string {
		// postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status
		return strconv.Itoa(os.Getpid()) + "\n/data\n1700000000\n5432\n/run\n*\n  1 2\n" + status + "\n"
	}
	tests := []struct {
		name  string
		files map[string]string
		want  sdk.Role
	}{
		{"nothing: primary", nil, sdk.RolePrimary},
		{"standby.signal", map[string]string{"standby.signal": ""}, sdk.RoleReplica},
		{"recovery.signal", map[string]string{"recovery.signal": ""}, sdk.RoleReplica},
		{"status standby", map[string]string{"postmaster.pid": pidFile("standby")}, sdk.RoleReplica},
		{"status ready wins over a leftover signal file", map[string]string{"postmaster.pid": pidFile("ready"), "recovery.signal": ""}, sdk.RolePrimary},
		{"starting: signal file decides", map[string]string{"postmaster.pid": pidFile("starting"), "standby.signal": ""}, sdk.RoleReplica},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
			}
			assert.Equal(t, tt.want, directRole(dir))
		})
	}
}

func TestMergedConfigPreloadFromSettings(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pg_hba.conf"), []byte("local all all peer\n"), 0o600))
	m, err := mergedConfig(render.Input{
		PGData: dir, Port: 5433, SocketDirs: []string{"/run/pg"}, ConfigDir: t.TempDir(),
		Env:    []render.Param{{Name: "shared_preload_libraries", Value: "citus, pg_stat_statements", Source: "POSTGRESQL_SHARED_PRELOAD_LIBRARIES"}},
		EnvHBA: []render.Rule{{Line: "host all all 10.0.0.0/8 scram-sha-256", Source: "PG_HBA_ADD_1"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"citus", "pg_stat_statements"}, m.PreloadLibraries)
	assert.Contains(t, m.Settings, sdk.Setting{Name: "port", Value: "5433"})
	// PGDATA/pg_hba.conf is left out: under a provider that writes
	// PostgreSQL's configuration (Patroni) it is last boot's output
	assert.Equal(t, []string{"host all all 10.0.0.0/8 scram-sha-256"}, m.HBARules)
}
