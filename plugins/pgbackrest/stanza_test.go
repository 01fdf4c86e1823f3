package pgbackrest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePgbackrest writes a pgbackrest stand-in that records its commands
// and exits with the code given per command (default 0).
func fakePgbackrest(t *testing.T, codes map[string]int) (bin, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	var sb strings.Builder
	sb.WriteString("#!/bin/sh\nfor a; do last=$a; done\necho \"$last env=$(env | grep -c PGBACKREST_)\" >> " + log + "\ncase $last in\n")
	for cmd, code := range codes {
		sb.WriteString("  " + cmd + ") echo 'ERROR: [028]: backup and archive info files exist but do not match the database'; exit " + strconv.Itoa(code) + ";;\n")
	}
	sb.WriteString("esac\nexit 0\n")
	bin = filepath.Join(dir, "pgbackrest")
	require.NoError(t, os.WriteFile(bin, []byte(sb.String()), 0o755))
	return bin, log
}

func stanzaPlugin(t *testing.T, bin string) *Plugin {
	p := newTestPlugin()
	c := mustLoad(t, map[string]string{})
	p.cfg, p.paths = &c, PathsFor(t.TempDir(), bin)
	return p
}

func TestEnsureStanzaUpgradesOnDBMismatch(t *testing.T) {
	t.Setenv("PGBACKREST_STANZA", "leaked") // the plugin's own environment never reaches pgbackrest
	bin, log := fakePgbackrest(t, map[string]int{"stanza-create": 28})
	p := stanzaPlugin(t, bin)
	require.NoError(t, p.ensureStanza(context.Background()))
	calls, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, "stanza-create env=0\nstanza-upgrade env=0\n", string(calls))
	assert.True(t, p.stanza.OK)
}

func TestEnsureStanzaFailureIsKept(t *testing.T) {
	bin, _ := fakePgbackrest(t, map[string]int{"stanza-create": 41})
	p := stanzaPlugin(t, bin)
	err := p.ensureStanza(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 41")
	assert.Contains(t, err.Error(), "ERROR: [028]")
	assert.False(t, p.stanza.OK)
	assert.Contains(t, p.stanza.Err, "exit status 41")
}
