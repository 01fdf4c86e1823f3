package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// TestFakeModeOwningBootstrapLeavesPostgresConfigAlone: a provider that
// owns bootstrap writes PostgreSQL's configuration itself (Patroni), so
// neither a reload nor a restart makes the host write pgdock.conf /
// pgdock_hba.conf into PGDATA or include them from postgresql.conf; and the
// merged hba rules it gets do not carry PGDATA/pg_hba.conf (its own output).
func TestFakeModeOwningBootstrapLeavesPostgresConfigAlone(t *testing.T) {
	s := newSite(t)
	s.withFakeMode(true, "TIMEOUT", "20", "PG_HBA_ADD_1", "host all app 10.1.0.0/16 scram-sha-256")
	noHostConfig := func(when string) {
		t.Helper()
		for _, f := range []string{"pgdock.conf", "pgdock_hba.conf"} {
			assert.False(t, fileExists(filepath.Join(s.PGData, f)), "%s: the host wrote PGDATA/%s", when, f)
		}
		conf, err := os.ReadFile(filepath.Join(s.PGData, "postgresql.conf"))
		require.NoError(t, err)
		assert.False(t, strings.Contains(string(conf), "pgdock.conf"), "%s: postgresql.conf includes the host's file", when)
		assert.Equal(t, "", s.query("postgres", "pw", "postgres",
			"SELECT coalesce(string_agg(DISTINCT sourcefile, ', '), '') FROM pg_file_settings WHERE sourcefile NOT LIKE '%/postgresql.conf' AND sourcefile NOT LIKE '%/postgresql.auto.conf'"),
			"%s: configuration files PostgreSQL reads besides its own", when)
		assert.Equal(t, filepath.Join(s.PGData, "pg_hba.conf"), s.query("postgres", "pw", "postgres", "SHOW hba_file"), when)
	}

	p := s.start()
	p.ready()
	s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning }, 10*time.Second)
	p.signal(syscall.SIGHUP)
	p.waitFor("configuration reloaded (SIGHUP sent to the mode child)", 1, 10*time.Second)
	p.waitFor("received SIGHUP, reloading configuration files", 1, 10*time.Second)
	noHostConfig("after SIGHUP")
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(30*time.Second))

	p2 := s.start()
	p2.ready()
	st := s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning && st.ModeChildPID > 0 }, 10*time.Second)
	noHostConfig("after a restart")
	environ, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.ModeChildPID), "environ"))
	require.NoError(t, err)
	var hba string
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "FAKE_MERGED_HBA="); ok {
			hba = v
		}
	}
	assert.Contains(t, hba, "host all app 10.1.0.0/16 scram-sha-256")
	assert.NotContains(t, hba, "trust", "PGDATA/pg_hba.conf (initdb's, --auth=trust) flowed into the merged rules")
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
}

// TestFakeModeChildDiesWithTheEntrypoint: the mode child runs in a process
// group of its own, so a SIGKILL of the entrypoint's group does not reach
// it; Pdeathsig kills it when the entrypoint dies.
func TestFakeModeChildDiesWithTheEntrypoint(t *testing.T) {
	s := newSite(t)
	s.withFakeMode(false)
	p := s.start()
	p.ready()
	st := s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning && st.ModeChildPID > 0 }, 10*time.Second)
	child := st.ModeChildPID
	t.Cleanup(func() { _ = syscall.Kill(-child, syscall.SIGKILL) })
	p.signal(syscall.SIGKILL)
	p.wait(10 * time.Second)
	assert.True(t, gone(child), "the mode child %d outlived the SIGKILLed entrypoint", child)
}
