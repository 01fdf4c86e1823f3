package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateBuiltConfig checks invariants on configurations built in code
// (not through Load), which Validate must catch on its own.
func TestValidateBuiltConfig(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantVar string
		wantMsg string
	}{
		{"empty user", func(c *Config) { c.User = "" }, "POSTGRES_USER", "must not be empty"},
		{"empty db", func(c *Config) { c.DB = "" }, "POSTGRES_DB", "must not be empty"},
		{"empty pgdata", func(c *Config) { c.PGData = "" }, "PGDATA", "must not be empty"},
		{"unclean pgdata", func(c *Config) { c.PGData = "/data/" }, "PGDATA", "absolute path"},
		{"port", func(c *Config) { c.Port = 0 }, "PGPORT", "between 1 and 65535"},
		{"auth method", func(c *Config) { c.HostAuthMethod = "" }, "POSTGRES_HOST_AUTH_METHOD", "not usable"},
		{"timeout", func(c *Config) { c.Timeout = 0 }, "TIMEOUT", "between 1 and 86400"},
		{"timeout sub-second", func(c *Config) { c.Timeout = time.Millisecond }, "TIMEOUT", "between 1 and 86400"},
		{"shutdown mode", func(c *Config) { c.ShutdownMode = "FAST" }, "SHUTDOWN_MODE", "smart, fast, immediate"},
		{"log level", func(c *Config) { c.LogLevel = "warning" }, "LOG_LEVEL", "debug, info, warn, error"},
		{"log format", func(c *Config) { c.LogFormat = "" }, "LOG_FORMAT", "text, json"},
		{"no socket dir", func(c *Config) { c.SocketDirs = nil }, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "at least one"},
		{"socket dir mismatch", func(c *Config) { c.SocketDir = "/tmp" }, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "first directory"},
		{"bad setting name", func(c *Config) {
			c.Settings = append(c.Settings, Setting{Name: "a b", Value: "1", Source: "X"})
		}, "X", "invalid"},
		{"reserved setting", func(c *Config) {
			c.Settings = append(c.Settings, Setting{Name: "port", Value: "1", Source: "X"})
		}, "X", "use PGPORT instead"},
		{"duplicate setting", func(c *Config) {
			c.Settings = append(c.Settings, Setting{Name: "listen_addresses", Value: "x", Source: "X"})
		}, "X", "which POSTGRESQL_LISTEN_ADDRESSES also sets"},
		{"bad hba line", func(c *Config) {
			c.HBARules = []HBARule{{Index: 1, Line: "host all all", Source: "PG_HBA_ADD_1"}}
		}, "PG_HBA_ADD_1", "invalid pg_hba rule"},
		{"hba order", func(c *Config) {
			c.HBARules = []HBARule{{Index: 2, Line: "host all all all md5", Source: "PG_HBA_ADD_2"}, {Index: 1, Line: "host all all all md5", Source: "PG_HBA_ADD_1"}}
		}, "PG_HBA_ADD_1", "ascending order"},
		{"hba negative index", func(c *Config) {
			c.HBARules = []HBARule{{Index: -1, Line: "host all all all md5", Source: "PG_HBA_ADD_X"}}
		}, "PG_HBA_ADD_X", "non-negative"},
		{"tls ca only", func(c *Config) { c.TLS.CAFile = "/ca" }, "POSTGRESQL_TLS_CA_FILE", "needs POSTGRESQL_TLS_CERT_FILE"},
		{"path with newline", func(c *Config) { c.StateDir = "/run/\npgdock" }, "PGDOCK_STATE_DIR", "newline"},
		{"empty config dir", func(c *Config) { c.ConfigDir = "" }, "PGCONFIG", "must not be empty"},
		{"relative plugin dir", func(c *Config) { c.PluginDir = "plugins" }, "PGDOCK_PLUGIN_DIR", "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.mutate(&c)
			err := c.Validate()
			require.Error(t, err)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			for _, p := range ve.Problems {
				if p.Var == tt.wantVar {
					assert.Contains(t, p.Message, tt.wantMsg)
					return
				}
			}
			t.Errorf("no problem for %s: %v", tt.wantVar, ve)
		})
	}
}

func TestValidateAcceptsLoadedConfigs(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"POSTGRES_PASSWORD": "pw", "POSTGRES_USER": "app", "PGDATA": "/data", "POSTGRES_INITDB_WALDIR": "/wal",
		"PG_HBA_ADD_1": "host all all 10.0.0.0/8 md5", "POSTGRESQL_TLS_CERT_FILE": "/tls/c", "POSTGRESQL_TLS_KEY_FILE": "/tls/k",
		"POSTGRESQL_CONFIG_WORK_MEM": "4MB", "TIMEOUT": "86400",
	})
	assert.NoError(t, c.Validate())
}

func TestProblemString(t *testing.T) {
	p := Problem{Var: "PGPORT", Value: "a\"b\n", Message: "must be an integer between 1 and 65535"}
	assert.Equal(t, `PGPORT="a\"b\n": must be an integer between 1 and 65535`, p.String())
	e := &ValidationError{Problems: []Problem{p, {Var: "X", Value: "", Message: "m"}}}
	assert.Equal(t, "PGPORT=\"a\\\"b\\n\": must be an integer between 1 and 65535\nX=\"\": m", e.Error())
}
