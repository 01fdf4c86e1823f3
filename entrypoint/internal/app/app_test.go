package app

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/logging"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
)

func TestMergePreload(t *testing.T) {
	for _, tc := range []struct {
		plugins []string
		user    string
		want    []string
	}{
		{[]string{"citus", "pg_stat_monitor"}, "", []string{"citus", "pg_stat_monitor"}},
		{[]string{"citus"}, "pg_stat_statements, citus ,auto_explain", []string{"citus", "pg_stat_statements", "auto_explain"}},
		{[]string{"citus", "citus"}, ",", []string{"citus"}},
		// pg_stat_monitor coexists with the user's pg_stat_statements.
		{[]string{"citus", "pg_stat_monitor"}, "pg_stat_statements,pg_stat_monitor", []string{"citus", "pg_stat_monitor", "pg_stat_statements"}},
	} {
		assert.Equal(t, tc.want, mergePreload(tc.plugins, tc.user))
	}
}

func TestEnvRoundTrip(t *testing.T) {
	m := EnvMap([]string{"A=1", "B=x=y", "C="})
	assert.Equal(t, map[string]string{"A": "1", "B": "x=y", "C": ""}, m)
	assert.Equal(t, []string{"A=1", "B=x=y", "C="}, envList(m))
}

func testRunner(t *testing.T, env map[string]string) (*runner, *bytes.Buffer) {
	cfg, err := config.Load(env, nil)
	require.NoError(t, err)
	var log bytes.Buffer
	return &runner{cfg: cfg, log: logging.New(logging.Options{Out: &log})}, &log
}

func TestPostgresArgsWarnAboutCustomConfigFile(t *testing.T) {
	r, log := testRunner(t, map[string]string{"POSTGRESQL_CONFIG_FILE": "/etc/pg.conf"})
	assert.Equal(t, []string{"-c", "config_file=/etc/pg.conf", "-c", "work_mem=1MB"}, r.postgresArgs([]string{"-c", "work_mem=1MB"}))
	assert.Contains(t, log.String(), "a custom config_file is used")

	r, log = testRunner(t, nil)
	assert.Equal(t, []string{"-c", "work_mem=1MB"}, r.postgresArgs([]string{"-c", "work_mem=1MB"}))
	assert.Empty(t, log.String())
	r.postgresArgs([]string{"--config-file=/x"})
	assert.Contains(t, log.String(), "a custom config_file is used")
}

func TestRenderInputSplitsDefaultsFromEnvironment(t *testing.T) {
	r, _ := testRunner(t, map[string]string{"POSTGRESQL_WORK_MEM": "8MB", "PG_HBA_ADD_3": "host all all 10.0.0.0/8 reject"})
	s := &server{r: r}
	in := s.renderInput()
	assert.Equal(t, []render.Param{{Name: "listen_addresses", Value: "*", Source: "pgdock default"}}, in.Defaults)
	require.Len(t, in.Env, 1)
	assert.Equal(t, "work_mem", in.Env[0].Name)
	require.Len(t, in.EnvHBA, 1)
	assert.Equal(t, "PG_HBA_ADD_3", in.EnvHBA[0].Source)
}

func TestExtensionDir(t *testing.T) {
	assert.Equal(t, "", extensionDir("/nowhere/lib/postgresql/99/bin"))
}

func TestMissingTLSFiles(t *testing.T) {
	dir := t.TempDir()
	r, _ := testRunner(t, map[string]string{
		"POSTGRESQL_TLS_CERT_FILE": dir + "/crt", "POSTGRESQL_TLS_KEY_FILE": dir + "/key",
	})
	errs := missingTLSFiles(r.cfg)
	require.Len(t, errs, 2)
	assert.Contains(t, errs[0].Error(), "POSTGRESQL_TLS_CERT_FILE")
	assert.Contains(t, errs[1].Error(), "POSTGRESQL_TLS_KEY_FILE")
}
