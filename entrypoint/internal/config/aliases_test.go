package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAliases(t *testing.T) {
	tests := []struct {
		old, new, value string
		check           func(t *testing.T, c Config)
	}{
		{"USE_PATRONI", "PATRONI_ENABLE", "true", nil},
		{"BACKUP_ENABLED", "PGBACKREST_ENABLE", "true", nil},
		{"ENABLE_PGBACKREST", "PGBACKREST_ENABLE", "yes", nil},
		{"PGBACKUP", "PGBACKREST_REPO_PATH", "/backup", nil},
		{"PGRUN", "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/tmp", func(t *testing.T, c Config) {
			assert.Equal(t, []string{"/tmp"}, c.SocketDirs)
		}},
		{"POSTGRESQL_PORT", "PGPORT", "5433", func(t *testing.T, c Config) { assert.Equal(t, 5433, c.Port) }},
		{"PATRONI_REPLICATION_USER", "REPLICATION_USER", "repl", nil},
		{"PATRONI_REPLICATION_PASSWORD", "REPLICATION_PASSWORD", "pw", nil},
		{"PGBACKREST_AUTO_FULL_CRON", "PGBACKREST_SCHEDULE_FULL", "0 2 * * *", nil},
		{"PGBACKREST_AUTO_DIFF_CRON", "PGBACKREST_SCHEDULE_DIFF", "20 2,8,14,20 * * *", nil},
		{"PGBACKREST_AUTO_INCR_CRON", "PGBACKREST_SCHEDULE_INCR", "*/15 * * * *", nil},
		{"EXTERNAL_ACCESS_METHOD", "POSTGRES_HOST_AUTH_METHOD", "md5", func(t *testing.T, c Config) { assert.Equal(t, "md5", c.HostAuthMethod) }},
		{"PGBACKREST_REPO1_S3_BUCKET", "PGBACKREST_REPO_S3_BUCKET", "bucket", nil},
	}
	for _, tt := range tests {
		t.Run(tt.old, func(t *testing.T) {
			c := mustLoad(t, map[string]string{tt.old: tt.value})
			assert.Equal(t, tt.value, c.Env[tt.new])
			assert.NotContains(t, c.Env, tt.old)
			assert.Equal(t, []string{tt.old + " is deprecated; use " + tt.new + " instead"}, c.Warnings)
			if tt.check != nil {
				tt.check(t, c)
			}

			// The same value under both names is fine, and still warns once.
			c = mustLoad(t, map[string]string{tt.old: tt.value, tt.new: tt.value})
			assert.Equal(t, tt.value, c.Env[tt.new])
			assert.Len(t, c.Warnings, 1)
		})
	}
}

func TestAliasWarningCount(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"none", map[string]string{"PATRONI_ENABLE": "true", "PGPORT": "5432"}, 0},
		{"one", map[string]string{"USE_PATRONI": "true"}, 1},
		{"three", map[string]string{"USE_PATRONI": "true", "BACKUP_ENABLED": "true", "PGBACKUP": "/b"}, 3},
		{"both legacy names of one variable", map[string]string{"BACKUP_ENABLED": "true", "ENABLE_PGBACKREST": "on"}, 2},
		{"booleans agree in any spelling", map[string]string{"USE_PATRONI": "TRUE", "PATRONI_ENABLE": "on"}, 1},
		{"empty legacy value is ignored", map[string]string{"USE_PATRONI": ""}, 0},
		{"prefix alias per variable", map[string]string{"PGBACKREST_REPO1_PATH": "/r", "PGBACKREST_REPO1_TYPE": "posix"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env)
			assert.Len(t, c.Warnings, tt.want, "%v", c.Warnings)
		})
	}
}

func TestAliasesTable(t *testing.T) {
	a := Aliases()
	require.NotEmpty(t, a)
	seen := map[string]bool{}
	for _, x := range a {
		assert.NotEmpty(t, x.Old)
		assert.NotEmpty(t, x.New)
		assert.False(t, seen[x.Old], "duplicate alias %s", x.Old)
		seen[x.Old] = true
	}
	a[0].Old = "changed"
	assert.NotEqual(t, "changed", Aliases()[0].Old, "Aliases returns a copy")
}
