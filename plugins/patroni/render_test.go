package patroni

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func goldenInput() Input {
	return Input{
		Server:           sdk.Server{PGData: "/var/lib/postgresql/data", Port: 5432, SocketDir: "/var/run/postgresql", Superuser: "postgres", FilesDir: "/run/pgdock/files/patroni"},
		BinDir:           "/usr/lib/postgresql/15/bin",
		Settings:         []sdk.Setting{{Name: "max_connections", Value: "200"}, {Name: "shared_buffers", Value: "256MB"}, {Name: "listen_addresses", Value: "*"}, {Name: "port", Value: "5432"}, {Name: "hba_file", Value: "/x"}, {Name: "timezone", Value: "UTC"}, {Name: "wal_level", Value: "logical"}},
		PreloadLibraries: []string{"citus", "pg_stat_statements"},
		HBARules:         []string{"host all all 192.0.2.0/24 reject"},
		Sections:         []Section{{Name: "citus", Content: []byte(`{"group":0,"database":"app"}`)}},
		LogLevel:         "info",
	}
}

func goldenConfig(t *testing.T) Config {
	c, problems := Load(with(EnvName, "pg-1", EnvRESTConnectHost, "10.0.0.5", EnvPostgresPassword, "su-secret",
		EnvRESTUsername, "admin", EnvRESTPassword, "rest-secret", EnvInitdbArgs, "--data-checksums", EnvLang, "en_US.utf8",
		EnvSyncMode, "on"), fakeSystem())
	require.Empty(t, problems)
	return c
}

func TestRenderGolden(t *testing.T) {
	f, err := Render(goldenConfig(t), goldenInput())
	require.NoError(t, err)
	assert.Equal(t, ConfigFile, f.Path)
	assert.Equal(t, os.FileMode(0o600), f.Mode)
	golden := filepath.Join("testdata", "patroni.golden.yml")
	if *update {
		require.NoError(t, os.WriteFile(golden, f.Content, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(f.Content))
}

func TestRenderRouting(t *testing.T) {
	doc, err := Build(goldenConfig(t), goldenInput())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"max_connections": "200", "wal_level": "logical"}, doc.Bootstrap.DCS.Postgres.Parameters, "cluster-wide parameters go to the DCS")
	assert.Equal(t, map[string]string{"shared_buffers": "256MB", "timezone": "UTC", "shared_preload_libraries": "citus,pg_stat_statements", "unix_socket_directories": "/var/run/postgresql"}, doc.Postgres.Parameters)
	assert.Equal(t, "*:5432", doc.Postgres.Listen)
	assert.Equal(t, "10.0.0.5:5432", doc.Postgres.ConnectAddress)
	assert.Equal(t, "10.0.0.5:8008", doc.RESTAPI.ConnectAddress)
	assert.Equal(t, "0.0.0.0:8008", doc.RESTAPI.Listen)
	assert.Equal(t, DefaultPostBootstrap, doc.Bootstrap.PostBootstrap)
	assert.Equal(t, []string{"host all all 192.0.2.0/24 reject", "local all all peer map=pgdock", "host replication replicator all scram-sha-256", "host all all all scram-sha-256"}, doc.Postgres.PGHBA)
	assert.Equal(t, map[string]any{"group": float64(0), "database": "app"}, doc.Extra["citus"])
}

func TestRenderSections(t *testing.T) {
	tests := []struct {
		name     string
		sections []Section
		wantErr  string
	}{
		{"own section", []Section{{Name: "postgresql", Content: []byte(`{}`)}}, "renders that section itself"},
		{"twice", []Section{{Name: "citus", Content: []byte(`{}`)}, {Name: "citus", Content: []byte(`{}`)}}, "contributed twice"},
		{"not json", []Section{{Name: "citus", Content: []byte(`{`)}}, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goldenInput()
			in.Sections = tt.sections
			_, err := Render(goldenConfig(t), in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestHBAHostAuthMethod(t *testing.T) {
	c, problems := Load(with(EnvHostAuthMethod, "md5"), fakeSystem())
	require.Empty(t, problems)
	assert.Equal(t, "host all all all md5", HBA(c, nil)[2])
}

func TestHBANoExternalAccess(t *testing.T) {
	c, problems := Load(with(EnvExternalAccess, "false"), fakeSystem())
	require.Empty(t, problems)
	assert.Equal(t, []string{"local all all peer map=pgdock", "host replication replicator all scram-sha-256", "host postgres postgres all scram-sha-256"}, HBA(c, nil))
	c.UsePGRewind = false
	assert.Equal(t, []string{"local all all peer map=pgdock", "host replication replicator all scram-sha-256"}, HBA(c, nil))
}

func TestHBAHostAllNotDuplicated(t *testing.T) {
	c := Config{ReplicationUser: "repl", ExternalAccess: true}
	got := HBA(c, []string{"host all all all md5"})
	assert.Equal(t, []string{"host all all all md5", "local all all peer map=pgdock", "host replication repl all scram-sha-256"}, got)
}

// TestHBAFixpoint: rendering again from rules that already hold the previous
// render's output (the host reads Patroni's pg_hba.conf back) gives the same
// list, instead of growing on every restart.
func TestHBAFixpoint(t *testing.T) {
	c := Config{ReplicationUser: "repl", ExternalAccess: true}
	first := HBA(c, []string{"host all all 192.0.2.0/24 reject"})
	again := HBA(c, append([]string{"host all all 192.0.2.0/24 reject"}, first...))
	assert.Equal(t, first, again)
	assert.Equal(t, []string{"host  all all 192.0.2.0/24 reject"}, HBA(c, []string{"host  all all 192.0.2.0/24 reject", "host all all 192.0.2.0/24   reject", "host all all all scram-sha-256"})[:1])
}

// hostilePasswords must survive the YAML round trip byte for byte.
var hostilePasswords = []string{
	`p#ss`, `a: b`, `'single'`, `"double"`, `*alias`, `&anchor`, `- dash`, `{a: 1}`, `[x]`, `%tag`, `@at`, "`tick`",
	`yes`, `null`, `~`, `0123`, `1e3`, ` lead and trail `, `back\slash`, `ünïcödé`, `#`, `: `, `|`, `>`, `!`, `x # y`,
}

func TestRenderPasswordsRoundTrip(t *testing.T) {
	for _, pw := range hostilePasswords {
		t.Run(pw, func(t *testing.T) {
			c, problems := Load(with(EnvReplicationPass, pw, EnvPostgresPassword, pw, EnvRESTUsername, "u", EnvRESTPassword, pw), fakeSystem())
			require.Empty(t, problems)
			f, err := Render(c, goldenInput())
			require.NoError(t, err)
			var doc Document
			require.NoError(t, yaml.Unmarshal(f.Content, &doc))
			assert.Equal(t, pw, doc.Postgres.Authentication.Replication.Password)
			assert.Equal(t, pw, doc.Postgres.Authentication.Superuser.Password)
			assert.Equal(t, pw, doc.RESTAPI.Auth.Password)
		})
	}
}

// TestRenderPasswordsPyYAML loads the rendered file with PyYAML's safe_load,
// the parser Patroni itself uses.
func TestRenderPasswordsPyYAML(t *testing.T) {
	py := sdktest.NeedTool(t, "python3", "python3-yaml")
	var files []string
	for _, pw := range hostilePasswords {
		c, problems := Load(with(EnvReplicationPass, pw, EnvPostgresPassword, pw), fakeSystem())
		require.Empty(t, problems)
		f, err := Render(c, goldenInput())
		require.NoError(t, err)
		files = append(files, string(f.Content))
	}
	in, err := json.Marshal(files)
	require.NoError(t, err)
	cmd := exec.Command(py, "-c", `import sys, yaml, json
out = []
for f in json.load(sys.stdin):
    a = yaml.safe_load(f)["postgresql"]["authentication"]
    out.append([a["superuser"]["password"], a["replication"]["password"]])
json.dump(out, sys.stdout)`)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	require.NoError(t, err, "PyYAML could not load the files")
	var got [][]string
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got, len(hostilePasswords))
	for i, pw := range hostilePasswords {
		assert.Equal(t, []string{pw, pw}, got[i], "password %q", pw)
	}
}

func TestChildEnv(t *testing.T) {
	parent := map[string]string{
		"PATH": "/usr/bin", "LANG": "en_US.utf8", "HOME": "/var/lib/postgresql", "PGDATA": "/data",
		"PATRONI_ENABLE": "true", "PATRONI_REST_PORT": "8008", "REPLICATION_PASSWORD": "x", "ETCD_HOSTS": "a",
	}
	declared := map[string]string{EnvStateDir: "/run/pgdock", EnvReplicationPass: "x", EnvRESTPort: "8008", "PGDATA": "/data"}
	env := ChildEnv(func(k string) string { return parent[k] }, declared)
	assert.Equal(t, map[string]string{"PATH": "/usr/bin", "LANG": "en_US.utf8", "HOME": "/var/lib/postgresql", "PYTHONUNBUFFERED": "1", EnvStateDir: "/run/pgdock"}, env)
	for k := range env {
		assert.False(t, strings.HasPrefix(k, "PATRONI_"), k)
		assert.NotContains(t, k, "PASSWORD")
		assert.False(t, k == "PGDATA" || strings.HasPrefix(k, "ETCD"), k)
	}
	cmd := Command("/run/pgdock/files/patroni", env)
	assert.Equal(t, []string{"patroni", "/run/pgdock/files/patroni/patroni.yml"}, cmd.Argv)
	assert.Equal(t, "SIGTERM", cmd.StopSignal)
	assert.False(t, slices.ContainsFunc(cmd.Argv, func(a string) bool { return strings.Contains(a, "x") && len(a) == 1 }))
}
