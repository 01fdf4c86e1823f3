package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func input(t *testing.T) Input {
	pgdata, conf := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "postgresql.conf"), []byte("max_connections = 100\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pgdata, "pg_hba.conf"), []byte("local all all peer\nhost all all all scram-sha-256"), 0o600))
	return Input{
		PGData: pgdata, Port: 5432, SocketDirs: []string{"/run/a", "/run/b"}, ConfigDir: conf,
		Defaults:  []Param{{Name: "listen_addresses", Value: "*", Source: "pgdock default"}},
		Plugin:    []Param{{Name: "pgdock_example.greeting", Value: "hi", Source: "plugin example"}},
		Env:       []Param{{Name: "work_mem", Value: "64MB", Source: "POSTGRESQL_WORK_MEM"}, {Name: "application_name", Value: `it's # x \ y`, Source: "POSTGRESQL_CONFIG_APPLICATION_NAME"}},
		Preload:   []string{"citus", "pg_stat_statements"},
		EnvHBA:    []Rule{{Line: "host all blocked 10.0.0.0/8 reject", Source: "PG_HBA_ADD_1"}},
		PluginHBA: []Rule{{Line: "host all all 192.0.2.0/24 reject", Source: "plugins"}},
	}
}

func TestConfOrderAndEncoding(t *testing.T) {
	in := input(t)
	in.WriteHBASetting = true
	in.TLSCert, in.TLSKey = "/tls/crt", "/tls/key"
	out, err := Conf(in)
	require.NoError(t, err)
	s := string(out)
	for _, want := range []string{
		"port = '5432'", "unix_socket_directories = '/run/a,/run/b'", "hba_file = '" + filepath.Join(in.PGData, HBAName) + "'",
		"listen_addresses = '*'", "pgdock_example.greeting = 'hi'", `application_name = 'it''s # x \\ y'`,
		"shared_preload_libraries = 'citus,pg_stat_statements'", "ssl = 'on'", "ssl_cert_file = '/tls/crt'",
		"no " + filepath.Join(in.ConfigDir, "postgresql.conf"),
	} {
		assert.Contains(t, s, want)
	}
	// later lines win in postgresql.conf: defaults < plugins < user file < environment
	assert.Less(t, strings.Index(s, "listen_addresses"), strings.Index(s, "pgdock_example"))
	assert.Less(t, strings.Index(s, "pgdock_example"), strings.Index(s, "# user file"))
	assert.Less(t, strings.Index(s, "# user file"), strings.Index(s, "work_mem"))

	require.NoError(t, os.WriteFile(filepath.Join(in.ConfigDir, "postgresql.conf"), []byte("work_mem = 1MB\n"), 0o644))
	out, err = Conf(in)
	require.NoError(t, err)
	assert.Contains(t, string(out), "include = '"+filepath.Join(in.ConfigDir, "postgresql.conf")+"'")

	in.Env = append(in.Env, Param{Name: "bad", Value: "a\nb", Source: "POSTGRESQL_CONFIG_BAD"})
	_, err = Conf(in)
	assert.ErrorContains(t, err, "POSTGRESQL_CONFIG_BAD")
}

func TestHBAOrder(t *testing.T) {
	in := input(t)
	require.NoError(t, os.WriteFile(filepath.Join(in.ConfigDir, "pg_hba.conf"), []byte("hostssl all all 0.0.0.0/0 cert\n"), 0o644))
	out, err := HBA(in)
	require.NoError(t, err)
	s := string(out)
	order := []string{"host all blocked 10.0.0.0/8 reject", "hostssl all all 0.0.0.0/0 cert", "host all all 192.0.2.0/24 reject", "local all all peer", "host all all all scram-sha-256\n"}
	last := -1
	for _, l := range order {
		i := strings.Index(s, l)
		require.GreaterOrEqual(t, i, 0, l)
		assert.Greater(t, i, last, "order of %q", l)
		last = i
	}
}

func TestApplyIsIdempotentAndKeepsUserFiles(t *testing.T) {
	in := input(t)
	require.NoError(t, Apply(in))
	require.NoError(t, Apply(in))
	conf, err := os.ReadFile(filepath.Join(in.PGData, "postgresql.conf"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(conf), includeLine), "the include is appended once")
	assert.True(t, strings.HasPrefix(string(conf), "max_connections = 100\n"), "the user's content is kept")
	for _, n := range []string{ConfName, HBAName} {
		fi, err := os.Stat(filepath.Join(in.PGData, n))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), n)
	}
	// a user who appends settings after our include gets it re-appended last
	f, err := os.OpenFile(filepath.Join(in.PGData, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString("shared_buffers = 1GB\n")
	f.Close()
	require.NoError(t, Apply(in))
	conf, _ = os.ReadFile(filepath.Join(in.PGData, "postgresql.conf"))
	assert.Equal(t, includeLine, lastEffectiveLine(conf))
	assert.Error(t, EnsureInclude(filepath.Join(t.TempDir(), "missing.conf")))
}
