package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// confValues reads name = 'value' lines of a rendered pgdock.conf the way
// PostgreSQL does: names are case-insensitive, the last line for a name wins.
func confValues(t *testing.T, conf []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(string(conf), "\n") {
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "include") {
			continue
		}
		name, rest, ok := strings.Cut(l, " = '")
		require.True(t, ok, l)
		i := strings.LastIndex(rest, "'\t#")
		require.GreaterOrEqual(t, i, 0, l)
		out[strings.ToLower(name)] = strings.ReplaceAll(strings.ReplaceAll(rest[:i], "''", "'"), `\\`, `\`)
	}
	return out
}

// TestSettingsMatchConf: the merged settings a mode provider gets are the
// values PostgreSQL reads from the rendered file, name by name.
func TestSettingsMatchConf(t *testing.T) {
	in := input(t)
	in.WriteHBASetting = true
	in.TLSCert, in.TLSKey, in.TLSCA = "/tls/crt", "/tls/key", "/tls/ca"
	// the environment overrides a default and a plugin setting
	in.Env = append(in.Env, Param{Name: "LISTEN_ADDRESSES", Value: "127.0.0.1", Source: "POSTGRESQL_LISTEN_ADDRESSES"},
		Param{Name: "pgdock_example.greeting", Value: "hello", Source: "POSTGRESQL_CONFIG_PGDOCK_EXAMPLE_GREETING"})
	conf, err := Conf(in)
	require.NoError(t, err)
	settings, err := Settings(in)
	require.NoError(t, err)
	got := map[string]string{}
	for _, p := range settings {
		_, dup := got[p.Name]
		require.False(t, dup, "%s twice", p.Name)
		got[p.Name] = p.Value
	}
	assert.Equal(t, confValues(t, conf), got)
	assert.Equal(t, "127.0.0.1", got["listen_addresses"])
	assert.Equal(t, "hello", got["pgdock_example.greeting"])
	assert.Equal(t, "port", settings[0].Name)

	in.Env = append(in.Env, Param{Name: "bad", Value: "a\nb", Source: "POSTGRESQL_CONFIG_BAD"})
	_, err = Settings(in)
	assert.ErrorContains(t, err, "POSTGRESQL_CONFIG_BAD")
}

func TestHBARulesMatchHBA(t *testing.T) {
	in := input(t)
	require.NoError(t, os.WriteFile(filepath.Join(in.ConfigDir, "pg_hba.conf"), []byte("# user\nhostssl all all 0.0.0.0/0 cert\n"), 0o644))
	rules, err := HBARules(in)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"host all blocked 10.0.0.0/8 reject",
		"hostssl all all 0.0.0.0/0 cert",
		"host all all 192.0.2.0/24 reject",
		"local all all peer",
		"host all all all scram-sha-256",
	}, rules)
}

// TestHBARulesOmitDataHBA: with OmitDataHBA, PGDATA/pg_hba.conf (a mode
// provider's output under Patroni) does not flow back into the rules, so a
// rule removed from the environment is gone on the next render.
func TestHBARulesOmitDataHBA(t *testing.T) {
	in := input(t)
	in.OmitDataHBA = true
	// what the provider wrote from the previous render, including an old PG_HBA_ADD rule
	require.NoError(t, os.WriteFile(filepath.Join(in.PGData, "pg_hba.conf"), []byte("host all old 10.9.0.0/16 trust\nlocal all all peer\n"), 0o600))
	in.EnvHBA = nil
	rules, err := HBARules(in)
	require.NoError(t, err)
	assert.Equal(t, []string{"host all all 192.0.2.0/24 reject"}, rules)
}
