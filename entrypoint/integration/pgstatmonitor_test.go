package integration

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The pg-stat-monitor plugin with its extension absent (it is not in
// Debian): the start refuses it naming the package. config render is
// tested with citus in citus_test.go; the CREATE EXTENSION logic in the
// plugin's package.

func TestPgStatMonitorMissingExtensionRefusesStart(t *testing.T) {
	s := newSite(t)
	s.needAbsent("pg_stat_monitor")
	s.set("PGDOCK_PLUGIN_DIR", extPluginDir(t), "PG_STAT_MONITOR_ENABLE", "true", "POSTGRES_PASSWORD", "secret")
	code, out := s.run()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `plugin pg-stat-monitor: PG_STAT_MONITOR_ENABLE: requires the PostgreSQL extension "pg_stat_monitor"`)
	assert.Contains(t, out, `install the package "percona-pg-stat-monitor15`)
	assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "nothing initialised")
	assertEmptyDir(t, s.PGData)
}
