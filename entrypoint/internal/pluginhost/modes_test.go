package pluginhost

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// TestOrderSectionsAndMergedConfig: two plugins (faulty under two names):
// "zmode" provides the run mode, "citusish" runs after it and contributes a
// section to it and one to a plugin that is not enabled. Hook order follows
// "after", the section reaches the provider's ModeCommand with the merged
// configuration, and the section for the absent plugin is dropped.
func TestOrderSectionsAndMergedConfig(t *testing.T) {
	f := newPluginFixture(t, "zmode", faultyBin, map[string]string{
		"ZMODE_MODE": "demo", "ZMODE_MODE_FAKE": "true",
		"CITUSISH_ENABLE": "true", "CITUSISH_AFTER": "zmode", "CITUSISH_SECTION": `zmode:citus:{"group":0}`,
		"CITUSISH_HBA": "host   all all 10.0.0.0/8   scram-sha-256",
	})
	f.install(t, "citusish", faultyBin)
	f.writeSums(t, sha256File(t, faultyBin)+"  "+BinaryPrefix+"zmode\n"+sha256File(t, faultyBin)+"  "+BinaryPrefix+"citusish\n")
	m := f.start(t)
	var names []string
	for _, d := range m.Descriptions() {
		names = append(names, d.Name)
	}
	assert.Equal(t, []string{"zmode", "citusish"}, names, "citusish runs after zmode although it sorts first")
	assert.Empty(t, m.Validate(testCtx(t)))

	c, err := m.Configure(testCtx(t), ConfigureInput{PGData: "/data", Port: 5432, SocketDir: "/run/pg", FilesDir: t.TempDir()})
	require.NoError(t, err)
	require.Len(t, c.Sections, 1)
	assert.Equal(t, Section{From: "citusish", Section: sdk.Section{Target: "zmode", Name: "citus", Content: []byte(`{"group":0}`)}}, c.Sections[0])
	assert.Equal(t, []string{"host all all 10.0.0.0/8 scram-sha-256"}, c.HBARules, "canonical form")

	merged := sdk.MergedConfig{Settings: []sdk.Setting{{Name: "port", Value: "5432"}}, HBARules: c.HBARules}
	cmd, err := m.ModeCommand(testCtx(t), merged, c.Sections)
	require.NoError(t, err)
	assert.Equal(t, "zmode", cmd.Plugin)
	assert.Contains(t, cmd.Env, `FAKE_SECTIONS=citus={"group":0}`)
	assert.Contains(t, cmd.Env, "FAKE_MERGED_PORT=5432")
	assert.Contains(t, cmd.Env, "FAKE_MERGED_HBA=host all all 10.0.0.0/8 scram-sha-256")
	assert.False(t, cmd.OwnsBootstrap)
}

// TestSectionForAbsentPluginDropped and a cycle in "after".
func TestSectionForAbsentPluginAndCycle(t *testing.T) {
	f := newPluginFixture(t, "aaa", faultyBin, map[string]string{
		"AAA_AFTER": "bbb", "AAA_SECTION": `nothere:x:{}`,
		"BBB_ENABLE": "true", "BBB_AFTER": "aaa",
	})
	f.install(t, "bbb", faultyBin)
	f.writeSums(t, sha256File(t, faultyBin)+"  "+BinaryPrefix+"aaa\n"+sha256File(t, faultyBin)+"  "+BinaryPrefix+"bbb\n")
	m := f.start(t)
	problems := m.Validate(testCtx(t))
	require.Len(t, problems, 1)
	assert.Contains(t, problems[0].String(), "form a cycle among aaa, bbb")
	c, err := m.Configure(testCtx(t), ConfigureInput{FilesDir: filepath.Join(t.TempDir(), "f")})
	require.NoError(t, err)
	assert.Empty(t, c.Sections)
}
