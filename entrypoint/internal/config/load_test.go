package config

import (
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// files is a fake secret-file reader.
type files map[string]string

func (f files) read(path string) ([]byte, error) {
	if s, ok := f[path]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// noFiles fails the test if Load tries to read a file.
func noFiles(t *testing.T) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		t.Errorf("unexpected read of %s", path)
		return nil, errors.New("unexpected read")
	}
}

func mustLoad(t *testing.T, env map[string]string) Config {
	t.Helper()
	c, err := Load(env, noFiles(t))
	require.NoError(t, err)
	return c
}

func loadProblems(t *testing.T, env map[string]string, read func(string) ([]byte, error)) *ValidationError {
	t.Helper()
	_, err := Load(env, read)
	require.Error(t, err)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	return ve
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, map[string]string{})
	want := Defaults()
	assert.Equal(t, want, c)
	assert.NoError(t, want.Validate())

	assert.Equal(t, "postgres", c.User)
	assert.Equal(t, "postgres", c.DB)
	assert.Equal(t, "scram-sha-256", c.HostAuthMethod)
	assert.Equal(t, "/var/lib/postgresql/data", c.PGData)
	assert.Equal(t, 5432, c.Port)
	assert.Equal(t, "/etc/pgdock/conf", c.ConfigDir)
	assert.Equal(t, "/var/run/postgresql", c.SocketDir)
	assert.Equal(t, []string{"/var/run/postgresql"}, c.SocketDirs)
	assert.Equal(t, 30*time.Second, c.Timeout)
	assert.Equal(t, "fast", c.ShutdownMode)
	assert.Equal(t, "info", c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, "/usr/lib/pgdock/plugins", c.PluginDir)
	assert.Equal(t, "/run/pgdock", c.StateDir)
	assert.True(t, c.ExternalAccess)
	assert.False(t, c.SleepMode)
	assert.Equal(t, []Setting{{Name: "listen_addresses", Value: "*", Source: "POSTGRESQL_LISTEN_ADDRESSES", Default: true}}, c.Settings)
	assert.Empty(t, c.Warnings)

	// A nil environment is an empty one.
	c, err := Load(nil, nil)
	require.NoError(t, err)
	assert.Equal(t, want, c)
}

func TestLoadGoodValues(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"db defaults to user", map[string]string{"POSTGRES_USER": "app"}, func(t *testing.T, c Config) {
			assert.Equal(t, "app", c.User)
			assert.Equal(t, "app", c.DB)
		}},
		{"db set", map[string]string{"POSTGRES_USER": "app", "POSTGRES_DB": "appdb"}, func(t *testing.T, c Config) {
			assert.Equal(t, "appdb", c.DB)
		}},
		{"empty counts as unset", map[string]string{"POSTGRES_USER": "", "PGPORT": "", "LOG_LEVEL": ""}, func(t *testing.T, c Config) {
			assert.Equal(t, "postgres", c.User)
			assert.Equal(t, 5432, c.Port)
			assert.Equal(t, "info", c.LogLevel)
		}},
		{"initdb args split like a shell", map[string]string{"POSTGRES_INITDB_ARGS": `--data-checksums --locale-provider=icu "--icu-locale=de-DE" '--auth-local=peer' --waldir=/w\ x $HOME`}, func(t *testing.T, c Config) {
			assert.Equal(t, []string{"--data-checksums", "--locale-provider=icu", "--icu-locale=de-DE", "--auth-local=peer", "--waldir=/w x", "$HOME"}, c.InitdbArgs)
		}},
		{"paths are cleaned", map[string]string{"PGDATA": "/data/pg/", "PGCONFIG": "//etc//pgdock/", "POSTGRES_INITDB_WALDIR": "/wal/"}, func(t *testing.T, c Config) {
			assert.Equal(t, "/data/pg", c.PGData)
			assert.Equal(t, "/etc/pgdock", c.ConfigDir)
			assert.Equal(t, "/wal", c.InitdbWaldir)
		}},
		{"port", map[string]string{"PGPORT": "6543"}, func(t *testing.T, c Config) { assert.Equal(t, 6543, c.Port) }},
		{"config file", map[string]string{"POSTGRESQL_CONFIG_FILE": "/etc/postgresql.conf"}, func(t *testing.T, c Config) {
			assert.Equal(t, "/etc/postgresql.conf", c.ConfigFile)
			for _, s := range c.Settings {
				assert.NotEqual(t, "file", s.Name, "POSTGRESQL_CONFIG_FILE is not a GUC")
			}
		}},
		{"host auth method", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "md5"}, func(t *testing.T, c Config) {
			assert.Equal(t, "md5", c.HostAuthMethod)
		}},
		{"host auth method with options, canonical", map[string]string{"POSTGRES_HOST_AUTH_METHOD": `  "ldap"   ldapserver=ldap  "ldapbasedn=dc=x, dc=y" `}, func(t *testing.T, c Config) {
			assert.Equal(t, `ldap ldapserver=ldap ldapbasedn="dc=x, dc=y"`, c.HostAuthMethod)
		}},
		{"md5 password_encryption makes md5 the default method", map[string]string{"POSTGRESQL_CONFIG_PASSWORD_ENCRYPTION": "MD5"}, func(t *testing.T, c Config) {
			assert.Equal(t, "md5", c.HostAuthMethod)
		}},
		{"explicit method wins over password_encryption", map[string]string{"POSTGRESQL_CONFIG_PASSWORD_ENCRYPTION": "md5", "POSTGRES_HOST_AUTH_METHOD": "scram-sha-256"}, func(t *testing.T, c Config) {
			assert.Equal(t, "scram-sha-256", c.HostAuthMethod)
		}},
		{"trust warns", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust"}, func(t *testing.T, c Config) {
			require.Len(t, c.Warnings, 1)
			assert.Contains(t, c.Warnings[0], "without a password")
		}},
		{"trust without external access does not warn", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "trust", "EXTERNAL_ACCESS_ENABLE": "false"}, func(t *testing.T, c Config) {
			assert.Empty(t, c.Warnings)
			assert.False(t, c.ExternalAccess)
		}},
		{"named settings are normalised", map[string]string{
			"POSTGRESQL_SHARED_BUFFERS": "256MB", "POSTGRESQL_MAX_CONNECTIONS": "200", "POSTGRESQL_WORK_MEM": "4096",
			"POSTGRESQL_MAINTENANCE_WORK_MEM": "1GB", "POSTGRESQL_LISTEN_ADDRESSES": "localhost, 10.0.0.5,::1",
			"POSTGRESQL_LOG_STATEMENT": "DDL", "POSTGRESQL_LOG_DURATION": "Yes", "POSTGRESQL_TIMEZONE": "Europe/Prague",
		}, func(t *testing.T, c Config) {
			assert.Equal(t, []Setting{
				{Name: "listen_addresses", Value: "localhost,10.0.0.5,::1", Source: "POSTGRESQL_LISTEN_ADDRESSES", Exact: true},
				{Name: "log_duration", Value: "on", Source: "POSTGRESQL_LOG_DURATION", Exact: true},
				{Name: "log_statement", Value: "ddl", Source: "POSTGRESQL_LOG_STATEMENT", Exact: true},
				{Name: "maintenance_work_mem", Value: "1GB", Source: "POSTGRESQL_MAINTENANCE_WORK_MEM"},
				{Name: "max_connections", Value: "200", Source: "POSTGRESQL_MAX_CONNECTIONS"},
				{Name: "shared_buffers", Value: "256MB", Source: "POSTGRESQL_SHARED_BUFFERS"},
				{Name: "timezone", Value: "Europe/Prague", Source: "POSTGRESQL_TIMEZONE"},
				{Name: "work_mem", Value: "4096", Source: "POSTGRESQL_WORK_MEM"},
			}, c.Settings)
		}},
		{"generic settings", map[string]string{
			"POSTGRESQL_CONFIG_CRON__DATABASE_NAME": "app", "POSTGRESQL_CONFIG_search_path": `"$user", public`,
			"POSTGRESQL_CONFIG_LISTEN_ADDRESSES": "127.0.0.1", "POSTGRESQL_CONFIG_APPLICATION_NAME": "it's # fine",
		}, func(t *testing.T, c Config) {
			assert.Equal(t, []Setting{
				{Name: "application_name", Value: "it's # fine", Source: "POSTGRESQL_CONFIG_APPLICATION_NAME"},
				{Name: "cron.database_name", Value: "app", Source: "POSTGRESQL_CONFIG_CRON__DATABASE_NAME"},
				{Name: "listen_addresses", Value: "127.0.0.1", Source: "POSTGRESQL_CONFIG_LISTEN_ADDRESSES"},
				{Name: "search_path", Value: `"$user", public`, Source: "POSTGRESQL_CONFIG_search_path"},
			}, c.Settings, "no default listen_addresses when a variable sets it")
		}},
		{"tls", map[string]string{"POSTGRESQL_TLS_CERT_FILE": "/tls/server.crt", "POSTGRESQL_TLS_KEY_FILE": "/tls/server.key", "POSTGRESQL_TLS_CA_FILE": "/tls/ca.crt"}, func(t *testing.T, c Config) {
			assert.Equal(t, TLS{CertFile: "/tls/server.crt", KeyFile: "/tls/server.key", CAFile: "/tls/ca.crt"}, c.TLS)
		}},
		{"socket directories", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": "/run/pg/, /tmp"}, func(t *testing.T, c Config) {
			assert.Equal(t, []string{"/run/pg", "/tmp"}, c.SocketDirs)
			assert.Equal(t, "/run/pg", c.SocketDir)
		}},
		{"runtime controls", map[string]string{"SLEEP_MODE": "TRUE", "TIMEOUT": "90", "SHUTDOWN_MODE": "Immediate", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "JSON"}, func(t *testing.T, c Config) {
			assert.True(t, c.SleepMode)
			assert.Equal(t, 90*time.Second, c.Timeout)
			assert.Equal(t, "immediate", c.ShutdownMode)
			assert.Equal(t, "warn", c.LogLevel)
			assert.Equal(t, "json", c.LogFormat)
		}},
		{"log levels any case", map[string]string{"LOG_LEVEL": "DEBUG"}, func(t *testing.T, c Config) { assert.Equal(t, "debug", c.LogLevel) }},
		{"legacy log level", map[string]string{"LOG_LEVEL": "ERROR"}, func(t *testing.T, c Config) { assert.Equal(t, "error", c.LogLevel) }},
		{"plugin dirs", map[string]string{"PGDOCK_PLUGIN_DIR": "/opt/plugins", "PGDOCK_STATE_DIR": "/var/run/pgdock"}, func(t *testing.T, c Config) {
			assert.Equal(t, "/opt/plugins", c.PluginDir)
			assert.Equal(t, "/var/run/pgdock", c.StateDir)
		}},
		{"env is kept for plugins", map[string]string{"PATRONI_SCOPE": "demo", "HOME": "/root"}, func(t *testing.T, c Config) {
			assert.Equal(t, map[string]string{"PATRONI_SCOPE": "demo", "HOME": "/root"}, c.Env)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.env)
			assert.NoError(t, c.Validate())
			tt.check(t, c)
		})
	}
}

func TestLoadDoesNotModifyInput(t *testing.T) {
	env := map[string]string{"USE_PATRONI": "true", "POSTGRES_PASSWORD_FILE": "/s"}
	_, err := Load(env, files{"/s": "x"}.read)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"USE_PATRONI": "true", "POSTGRES_PASSWORD_FILE": "/s"}, env)
}

func TestSettingsAndRulesOrder(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"POSTGRESQL_CONFIG_WORK_MEM":         "8MB",
		"POSTGRESQL_CONFIG_AUTOVACUUM":       "on",
		"POSTGRESQL_SHARED_BUFFERS":          "1GB",
		"POSTGRESQL_CONFIG_ARCHIVE_TIMEOUT":  "60",
		"POSTGRESQL_CONFIG_PG_STAT__X":       "1",
		"PG_HBA_ADD_10":                      "host all all 10.0.0.0/8 md5",
		"PG_HBA_ADD_2":                       "hostssl   all   all   all   scram-sha-256",
		"PG_HBA_ADD_0":                       `local "my db" +admins peer`,
		"PG_HBA_ADD_1":                       "host replication replicator 192.168.0.0 255.255.0.0 md5",
		"PG_HBA_ADD_01":                      "host all all samenet reject",
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": "/run/b,/run/a",
	})
	var sources []string
	for _, s := range c.Settings {
		sources = append(sources, s.Source)
	}
	assert.Equal(t, []string{
		"POSTGRESQL_CONFIG_ARCHIVE_TIMEOUT", "POSTGRESQL_CONFIG_AUTOVACUUM", "POSTGRESQL_CONFIG_PG_STAT__X",
		"POSTGRESQL_CONFIG_WORK_MEM", "POSTGRESQL_LISTEN_ADDRESSES", "POSTGRESQL_SHARED_BUFFERS",
	}, sources)
	assert.Equal(t, []HBARule{
		{Index: 0, Line: `local "my db" +admins peer`, Source: "PG_HBA_ADD_0"},
		{Index: 1, Line: "host all all samenet reject", Source: "PG_HBA_ADD_01"},
		{Index: 1, Line: "host replication replicator 192.168.0.0 255.255.0.0 md5", Source: "PG_HBA_ADD_1"},
		{Index: 2, Line: "hostssl all all all scram-sha-256", Source: "PG_HBA_ADD_2"},
		{Index: 10, Line: "host all all 10.0.0.0/8 md5", Source: "PG_HBA_ADD_10"},
	}, c.HBARules)
	assert.Equal(t, []string{"/run/b", "/run/a"}, c.SocketDirs, "socket directories keep their order")
}

func TestParseBool(t *testing.T) {
	for _, s := range []string{"true", "TRUE", "True", "1", "yes", "YES", "Yes", "on", "ON", "On", " true "} {
		b, err := ParseBool(s)
		require.NoError(t, err, s)
		assert.True(t, b, s)
	}
	for _, s := range []string{"false", "FALSE", "False", "0", "no", "NO", "No", "off", "OFF", "Off"} {
		b, err := ParseBool(s)
		require.NoError(t, err, s)
		assert.False(t, b, s)
	}
	for _, s := range []string{"", "y", "n", "t", "f", "2", "enabled", "truee", "-1"} {
		_, err := ParseBool(s)
		require.Error(t, err, s)
		assert.Contains(t, err.Error(), "true/false, 1/0, yes/no or on/off")
	}
}

func TestBooleanVariablesAcceptEverySpelling(t *testing.T) {
	spellings := map[string]bool{
		"true": true, "TRUE": true, "True": true, "1": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
		"false": false, "FALSE": false, "False": false, "0": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
	}
	for s, want := range spellings {
		t.Run(s, func(t *testing.T) {
			c := mustLoad(t, map[string]string{"SLEEP_MODE": s, "EXTERNAL_ACCESS_ENABLE": s, "POSTGRESQL_LOG_DURATION": s})
			assert.Equal(t, want, c.SleepMode)
			assert.Equal(t, want, c.ExternalAccess)
			wantOnOff := map[bool]string{true: "on", false: "off"}[want]
			assert.Contains(t, c.Settings, Setting{Name: "log_duration", Value: wantOnOff, Source: "POSTGRESQL_LOG_DURATION", Exact: true})
		})
	}
}

func TestNoEffectVariablesWarnOnce(t *testing.T) {
	for _, n := range noEffect {
		t.Run(n.Var, func(t *testing.T) {
			c := mustLoad(t, map[string]string{n.Var: "anything"})
			require.Len(t, c.Warnings, 1)
			assert.Contains(t, c.Warnings[0], n.Var+" has no effect")
		})
	}
	c := mustLoad(t, map[string]string{"PGLOG": "/x", "POSTGRES_GROUP": "pg", "STRICT_PERMISSIONS": "true"})
	assert.Len(t, c.Warnings, 3)
}
