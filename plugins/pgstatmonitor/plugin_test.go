package pgstatmonitor

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
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

func TestDescribeAndConfigure(t *testing.T) {
	control := filepath.Join(t.TempDir(), "pg_stat_monitor.control")
	require.NoError(t, os.WriteFile(control, []byte("default_version = '2.0'\n"), 0o644))
	p := New(hclog.NewNullLogger(), func() string { return control })
	c := sdktest.Serve(t, p)
	ctx := context.Background()
	d, err := c.Describe(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pg-stat-monitor", d.Name)
	assert.Equal(t, "PG_STAT_MONITOR_", sdk.EnvPrefix(d.Name))
	assert.Equal(t, []sdk.PreloadLibrary{{Name: "pg_stat_monitor"}}, d.PreloadLibraries)
	assert.Equal(t, "pg_stat_monitor", d.RequiredExtensions[0].Name)
	assert.Contains(t, d.RequiredExtensions[0].Package, "pg-stat-monitor")

	problems, err := c.Validate(ctx, map[string]string{"PG_STAT_MONITOR_TRACK_APPLICATION_NAMES": "on"})
	require.NoError(t, err)
	require.Len(t, problems, 1, "2.0 (from the control file) lacks the setting")

	conf, err := c.Configure(ctx, sdk.ConfigureRequest{Env: map[string]string{"PG_STAT_MONITOR_MAX_BUCKETS": "20"}})
	require.NoError(t, err)
	assert.Equal(t, []sdk.Setting{{Name: "pg_stat_monitor.pgsm_max_buckets", Value: "20"}}, conf.Settings)
}

func TestSQLQuoted(t *testing.T) {
	assert.Contains(t, ExistingAmong, "json_array_elements_text(:'databases'::json)")
}

// The extension's creation against real PostgreSQL, with
// pg_stat_statements (contrib, always installed with PostgreSQL) standing
// in for pg_stat_monitor: POSTGRES_DB at bootstrap; at start every
// configured database that exists, idempotently; nothing on a replica.
func TestStandinCreatesExtension(t *testing.T) {
	e := pgserver.Find(t)
	c := pgserver.New(t, e, pgserver.FreePort(t))
	c.Start()
	c.Exec(`CREATE DATABASE app`)
	c.Exec(`CREATE DATABASE "we'ird"`)
	p := New(hclog.NewNullLogger(), func() string { return "" })
	p.extension = "pg_stat_statements"
	ctx := context.Background()
	env := map[string]string{"POSTGRES_DB": "app", "PG_STAT_MONITOR_DATABASES": "we'ird,later"}
	has := func(db string) bool {
		conn := c.Connect(db)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'").Scan(&n))
		return n == 1
	}
	require.NoError(t, p.Bootstrap(ctx, sdk.HookRequest{Env: env, Conn: c.Conn()}))
	assert.True(t, has("app"))
	assert.False(t, has("we'ird"), "bootstrap: POSTGRES_DB only")

	require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: env, Conn: c.Conn(), Role: sdk.RoleReplica}))
	assert.False(t, has("we'ird"), "nothing on a replica")

	require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: env, Conn: c.Conn(), Role: sdk.RolePrimary}), "a missing database is skipped")
	assert.True(t, has("we'ird"))
	c.Exec(`CREATE DATABASE later`)
	require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: env, Conn: c.Conn(), Role: sdk.RolePrimary}), "idempotent")
	assert.True(t, has("later"), "a database created later gets it at the next start")
}

// TestRealPgStatMonitor needs the real extension; pg_stat_monitor is not in
// Debian, so it is skipped (never passed) where it is missing.
func TestRealPgStatMonitor(t *testing.T) {
	e := pgserver.Find(t)
	control := filepath.Join("/usr/share/postgresql", filepath.Base(filepath.Dir(e.Bin)), "extension", "pg_stat_monitor.control")
	if _, err := os.Stat(control); err != nil {
		t.Skipf("skipped: needs the real pg_stat_monitor extension (%s not found; it is not in Debian, install %s)", control, Package)
	}
	c := pgserver.New(t, e, pgserver.FreePort(t))
	// Coexists with pg_stat_statements.
	c.Start("shared_preload_libraries=pg_stat_monitor,pg_stat_statements", "pg_stat_monitor.pgsm_max_buckets=20")
	p := New(hclog.NewNullLogger(), nil)
	ctx := context.Background()
	env := map[string]string{"POSTGRES_DB": "postgres"}
	require.NoError(t, p.Bootstrap(ctx, sdk.HookRequest{Env: env, Conn: c.Conn()}))
	c.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
	assert.Equal(t, []string{"20"}, c.Strings("SELECT current_setting('pg_stat_monitor.pgsm_max_buckets')"))
	c.Exec("SELECT 1")
	assert.NotEmpty(t, c.Strings("SELECT count(*)::text FROM pg_stat_monitor"))
	assert.NotEmpty(t, c.Strings("SELECT count(*)::text FROM pg_stat_statements"))
	// Every setting of the installed version's table exists in the server.
	v, ok := InstalledVersion(control)
	require.True(t, ok)
	for _, n := range names(v) {
		assert.Len(t, c.Strings("SELECT name FROM pg_settings WHERE name = $1", "pg_stat_monitor.pgsm_"+strings.ToLower(n)), 1, n)
	}
}
