package pgstatmonitor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestLoadMapsSettings(t *testing.T) {
	v21 := version{2, 1}
	tests := []struct {
		name      string
		env       map[string]string
		v         version
		known     bool
		want      []sdk.Setting
		wantVars  []string
		wantInMsg string
	}{
		{name: "mapping and normalising", v: v21, known: true, env: map[string]string{
			"PG_STAT_MONITOR_ENABLE": "true", "PG_STAT_MONITOR_CRASH_POLICY": "continue",
			"PG_STAT_MONITOR_MAX": "512", "PG_STAT_MONITOR_PGSM_QUERY_MAX_LEN": "4096", "PG_STAT_MONITOR_TRACK": "ALL",
			"PG_STAT_MONITOR_TRACK_PLANNING": "yes", "PG_STAT_MONITOR_ENABLE_QUERY_PLAN": "off", "PG_STAT_MONITOR_BUCKET_TIME": "5min",
			"PG_STAT_MONITOR_HISTOGRAM_MIN": "0.5", "PG_STAT_MONITOR_TRACK_APPLICATION_NAMES": "1", "POSTGRES_DB": "app"},
			want: []sdk.Setting{
				{Name: "pg_stat_monitor.pgsm_bucket_time", Value: "5min"},
				{Name: "pg_stat_monitor.pgsm_enable_query_plan", Value: "off"},
				{Name: "pg_stat_monitor.pgsm_histogram_min", Value: "0.5"},
				{Name: "pg_stat_monitor.pgsm_max", Value: "512"},
				{Name: "pg_stat_monitor.pgsm_query_max_len", Value: "4096"},
				{Name: "pg_stat_monitor.pgsm_track", Value: "all"},
				{Name: "pg_stat_monitor.pgsm_track_application_names", Value: "on"},
				{Name: "pg_stat_monitor.pgsm_track_planning", Value: "on"},
			}},
		{name: "memory with a unit", v: v21, known: true, env: map[string]string{"PG_STAT_MONITOR_MAX": "1GB"},
			want: []sdk.Setting{{Name: "pg_stat_monitor.pgsm_max", Value: "1GB"}}},
		{name: "a setting 2.0 lacks", v: version{2, 0}, known: true, env: map[string]string{"PG_STAT_MONITOR_TRACK_APPLICATION_NAMES": "on"},
			wantVars: []string{"PG_STAT_MONITOR_TRACK_APPLICATION_NAMES"}, wantInMsg: "pg_stat_monitor 2.0 has no setting pgsm_track_application_names"},
		{name: "unknown setting lists the known ones", v: v21, known: true, env: map[string]string{"PG_STAT_MONITOR_ENABLED": "on"},
			wantVars: []string{"PG_STAT_MONITOR_ENABLED"}, wantInMsg: "PG_STAT_MONITOR_BUCKET_TIME, PG_STAT_MONITOR_ENABLE_OVERFLOW"},
		{name: "unknown version checks the newest", env: map[string]string{"PG_STAT_MONITOR_TRACK_APPLICATION_NAMES": "off", "PG_STAT_MONITOR_NOPE": "1"},
			want:     []sdk.Setting{{Name: "pg_stat_monitor.pgsm_track_application_names", Value: "off"}},
			wantVars: []string{"PG_STAT_MONITOR_NOPE"}, wantInMsg: "installed version is unknown"},
		{name: "deprecated", v: v21, known: true, env: map[string]string{"PG_STAT_MONITOR_OVERFLOW_TARGET": "1"},
			wantVars: []string{"PG_STAT_MONITOR_OVERFLOW_TARGET"}, wantInMsg: "ENABLE_OVERFLOW"},
		{name: "bad values, every one reported", v: v21, known: true, env: map[string]string{
			"PG_STAT_MONITOR_MAX": "5", "PG_STAT_MONITOR_MAX_BUCKETS": "ten", "PG_STAT_MONITOR_TRACK": "some",
			"PG_STAT_MONITOR_TRACK_UTILITY": "perhaps", "PG_STAT_MONITOR_BUCKET_TIME": "5MB", "PG_STAT_MONITOR_HISTOGRAM_BUCKETS": "51"},
			wantVars: []string{"PG_STAT_MONITOR_BUCKET_TIME", "PG_STAT_MONITOR_HISTOGRAM_BUCKETS", "PG_STAT_MONITOR_MAX",
				"PG_STAT_MONITOR_MAX_BUCKETS", "PG_STAT_MONITOR_TRACK", "PG_STAT_MONITOR_TRACK_UTILITY"}},
		{name: "1.x is refused", v: version{1, 0}, known: true, env: map[string]string{}, wantVars: []string{"PG_STAT_MONITOR_ENABLE"}, wantInMsg: "2.0 or later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, problems := Load(tt.env, tt.v, tt.known)
			var vars []string
			all := ""
			for _, p := range problems {
				vars = append(vars, p.Var)
				all += p.Message + "\n"
			}
			assert.Equal(t, tt.wantVars, vars, all)
			assert.Equal(t, tt.want, c.Settings)
			if tt.wantInMsg != "" {
				assert.Contains(t, all, tt.wantInMsg)
			}
		})
	}
}

func TestLoadDatabases(t *testing.T) {
	c, problems := Load(map[string]string{"POSTGRES_DB": "app", "PG_STAT_MONITOR_DATABASES": "reports, app,,metrics"}, version{2, 1}, true)
	require.Empty(t, problems)
	assert.Equal(t, []string{"app", "reports", "metrics"}, c.Databases)
	c, _ = Load(map[string]string{"POSTGRES_USER": "u"}, version{2, 1}, true)
	assert.Equal(t, []string{"u"}, c.Databases)
	c, _ = Load(map[string]string{}, version{2, 1}, true)
	assert.Equal(t, []string{"postgres"}, c.Databases)
}

func TestInstalledVersionAndControlFile(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "lib", "postgresql", "16", "bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "postgres"), nil, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "lib", "postgresql", "9", "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "lib", "postgresql", "9", "bin", "postgres"), nil, 0o755))
	noPath := func(string) (string, error) { return "", os.ErrNotExist }
	control := ControlFile(noPath, root)
	assert.Equal(t, filepath.Join(root, "share", "postgresql", "16", "extension", "pg_stat_monitor.control"), control, "newest major")
	inPath := func(string) (string, error) {
		return filepath.Join(root, "lib", "postgresql", "9", "bin", "postgres"), nil
	}
	assert.Contains(t, ControlFile(inPath, root), filepath.Join("postgresql", "9", "extension"), "the postgres in PATH wins")

	_, ok := InstalledVersion(control)
	assert.False(t, ok, "missing file")
	require.NoError(t, os.MkdirAll(filepath.Dir(control), 0o755))
	require.NoError(t, os.WriteFile(control, []byte("# pg_stat_monitor extension\ncomment = 'x'\ndefault_version = '2.1'\nmodule_pathname = '$libdir/pg_stat_monitor'\n"), 0o644))
	v, ok := InstalledVersion(control)
	assert.True(t, ok)
	assert.Equal(t, version{2, 1}, v)
	require.NoError(t, os.WriteFile(control, []byte("default_version = '2.0.4'\n"), 0o644))
	v, _ = InstalledVersion(control)
	assert.Equal(t, version{2, 0}, v)
}
