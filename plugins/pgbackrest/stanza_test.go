package pgbackrest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
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

// TestEnsureStanzaStopIsNotAFailure: a stop during stanza-create leaves no
// failure in health, and the temporary server's socket is passed on.
func TestEnsureStanzaStopIsNotAFailure(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	bin := filepath.Join(dir, "pgbackrest")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho \"$@\" > "+args+"\nexec sleep 30\n"), 0o755))
	p := stanzaPlugin(t, bin)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(args); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	err := p.ensureStanzaOn(ctx, &sdk.Conn{SocketDir: "/tmp/boot", Port: 5433})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "interrupted by the stop")
	assert.False(t, p.stanza.OK)
	assert.True(t, p.stanza.At.IsZero(), "no failed stanza-create recorded")
	assert.Empty(t, p.stanza.Err)
	h := report(*p.cfg, sdk.RolePrimary, time.Now(), p.stanza, infoState{}, archiverState{}, nil, time.Now())
	assert.NotContains(t, h.Message, "stanza-create failed")
	got, err := os.ReadFile(args)
	require.NoError(t, err)
	assert.Contains(t, string(got), "--pg1-socket-path=/tmp/boot --pg1-port=5433 stanza-create")
}
