package patroni

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// pgbackrestSections are the sections the pgbackrest plugin contributes in
// Patroni mode (the same JSON its Configure returns).
var pgbackrestSections = []Section{
	{Name: "replica_method.pgbackrest", Content: []byte(`{"command":"/usr/bin/env -i /usr/bin/pgbackrest --config=/run/pgdock/files/pgbackrest/pgbackrest.conf --stanza=default --type=standby --delta restore","keep_data":true,"no_params":true}`)},
	{Name: "recovery_conf", Content: []byte(`{"restore_command":"/usr/bin/env -i /usr/bin/pgbackrest --config=/c --stanza=default archive-get %f \"%p\""}`)},
	{Name: "bootstrap_method.pgbackrest", Content: []byte(`{"command":"/usr/bin/env -i /usr/bin/pgbackrest restore","no_params":true,"recovery_conf":{"restore_command":"rc","recovery_target_time":"2026-12-03 18:00:00+00","recovery_target_action":"promote"}}`)},
}

func TestContributedSectionsMerge(t *testing.T) {
	in := goldenInput()
	in.Sections = append(in.Sections, pgbackrestSections...)
	doc, err := Build(goldenConfig(t), in)
	require.NoError(t, err)
	assert.Equal(t, []string{"pgbackrest", "basebackup"}, doc.Postgres.CreateReplicaMethods, "contributed methods first, basebackup stays the fallback")
	assert.Equal(t, ReplicaMethod{Command: "/usr/bin/env -i /usr/bin/pgbackrest --config=/run/pgdock/files/pgbackrest/pgbackrest.conf --stanza=default --type=standby --delta restore", KeepData: true, NoParams: true}, doc.Postgres.Methods["pgbackrest"])
	assert.Equal(t, RecoveryConf{"restore_command": `/usr/bin/env -i /usr/bin/pgbackrest --config=/c --stanza=default archive-get %f "%p"`}, doc.Postgres.RecoveryConf)
	assert.Equal(t, "pgbackrest", doc.Bootstrap.Method)
	assert.Equal(t, "promote", doc.Bootstrap.Methods["pgbackrest"].RecoveryConf["recovery_target_action"])
	assert.Equal(t, map[string]any{"group": float64(0), "database": "app"}, doc.Extra["citus"], "top-level sections still work")

	// The file Patroni reads: the method options sit inside Patroni's own
	// postgresql and bootstrap sections, where Patroni looks for them.
	f, err := Render(goldenConfig(t), in)
	require.NoError(t, err)
	var y struct {
		Bootstrap struct {
			Method     string         `yaml:"method"`
			Pgbackrest map[string]any `yaml:"pgbackrest"`
			Initdb     []any          `yaml:"initdb"`
		} `yaml:"bootstrap"`
		Postgresql struct {
			CreateReplicaMethods []string          `yaml:"create_replica_methods"`
			Pgbackrest           map[string]any    `yaml:"pgbackrest"`
			RecoveryConf         map[string]string `yaml:"recovery_conf"`
			Basebackup           []any             `yaml:"basebackup"`
		} `yaml:"postgresql"`
		Citus map[string]any `yaml:"citus"`
	}
	require.NoError(t, yaml.Unmarshal(f.Content, &y), string(f.Content))
	assert.Equal(t, "pgbackrest", y.Bootstrap.Method)
	assert.Equal(t, true, y.Bootstrap.Pgbackrest["no_params"])
	assert.Equal(t, map[string]any{"restore_command": "rc", "recovery_target_time": "2026-12-03 18:00:00+00", "recovery_target_action": "promote"}, y.Bootstrap.Pgbackrest["recovery_conf"])
	assert.NotEmpty(t, y.Bootstrap.Initdb, "initdb options stay (a method that is not used falls back to nothing else)")
	assert.Equal(t, []string{"pgbackrest", "basebackup"}, y.Postgresql.CreateReplicaMethods)
	assert.Equal(t, true, y.Postgresql.Pgbackrest["keep_data"])
	assert.Equal(t, true, y.Postgresql.Pgbackrest["no_params"])
	assert.NotContains(t, y.Postgresql.Pgbackrest, "no_leader")
	assert.Contains(t, y.Postgresql.RecoveryConf["restore_command"], "archive-get")
	assert.NotEmpty(t, y.Postgresql.Basebackup)
	assert.Equal(t, float64(0), toFloat(y.Citus["group"]))

	// Without contributions nothing of this appears.
	plain, err := Build(goldenConfig(t), goldenInput())
	require.NoError(t, err)
	assert.Equal(t, []string{"basebackup"}, plain.Postgres.CreateReplicaMethods)
	assert.Empty(t, plain.Bootstrap.Method)
	assert.Nil(t, plain.Postgres.RecoveryConf)
	f, err = Render(goldenConfig(t), goldenInput())
	require.NoError(t, err)
	assert.NotContains(t, string(f.Content), "method:")
	assert.NotContains(t, string(f.Content), "recovery_conf")
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return -1
}

func TestContributedSectionsRefused(t *testing.T) {
	rm := func(name, content string) Section {
		return Section{Name: "replica_method." + name, Content: []byte(content)}
	}
	bm := func(name, content string) Section {
		return Section{Name: "bootstrap_method." + name, Content: []byte(content)}
	}
	tests := []struct {
		name     string
		sections []Section
		wantErr  string
	}{
		{"unknown field", []Section{rm("pgbackrest", `{"command":"x","keepdata":true}`)}, `unknown field "keepdata"`},
		{"wrong type", []Section{rm("pgbackrest", `{"command":"x","keep_data":"yes"}`)}, "not the expected JSON object"},
		{"empty command", []Section{rm("pgbackrest", `{"keep_data":true}`)}, "command is empty"},
		{"newline in command", []Section{rm("pgbackrest", `{"command":"a\nb"}`)}, "control character"},
		{"built-in name", []Section{rm("basebackup", `{"command":"x"}`)}, "built-in method"},
		{"name of patroni's own key", []Section{rm("parameters", `{"command":"x"}`)}, "key of Patroni's own section"},
		{"bad name", []Section{rm("Pg-Backrest", `{"command":"x"}`)}, "lower-case letters"},
		{"replica method twice", []Section{rm("a", `{"command":"x"}`), rm("a", `{"command":"y"}`)}, "contributed twice"},
		{"two bootstrap methods", []Section{bm("a", `{"command":"x"}`), bm("b", `{"command":"y"}`)}, "only one plugin may bootstrap"},
		{"bootstrap named initdb", []Section{bm("initdb", `{"command":"x"}`)}, "built-in method"},
		{"bootstrap named like a key", []Section{bm("dcs", `{"command":"x"}`)}, "key of Patroni's own section"},
		{"bootstrap pause", []Section{bm("a", `{"command":"x","recovery_conf":{"recovery_target_action":"pause"}}`)}, "only promote"},
		{"bootstrap unknown recovery key", []Section{bm("a", `{"command":"x","recovery_conf":{"primary_conninfo":"host=x"}}`)}, `"primary_conninfo" is not accepted`},
		{"replica recovery target", []Section{{Name: "recovery_conf", Content: []byte(`{"recovery_target_time":"2026-01-01"}`)}}, "not accepted here"},
		{"empty recovery value", []Section{{Name: "recovery_conf", Content: []byte(`{"restore_command":""}`)}}, "empty"},
		{"unknown kind", []Section{{Name: "callback.x", Content: []byte(`{}`)}}, "unknown kind of section"},
		{"trailing data", []Section{rm("a", `{"command":"x"} {}`)}, "data after it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goldenInput()
			in.Sections = tt.sections
			_, err := Build(goldenConfig(t), in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), "contributed section", "the error names the section")
		})
	}
}

func TestDroppedParameters(t *testing.T) {
	in := goldenInput()
	in.Settings = append(in.Settings, sdk.Setting{Name: "output_plugin_libraries", Value: "pgoutput,test_decoding,decoderbufs"})
	doc, err := Build(goldenConfig(t), in)
	require.NoError(t, err)
	assert.Equal(t, []string{"output_plugin_libraries"}, doc.Dropped)
	assert.NotContains(t, doc.Postgres.Parameters, "output_plugin_libraries")
	assert.NotContains(t, doc.Bootstrap.DCS.Postgres.Parameters, "output_plugin_libraries")
	f, err := Render(goldenConfig(t), in)
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(f.Content), "output_plugin_libraries"))
}
