package integration

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// TestPatroniKilledEntrypointExitsAndStopsPostgres: kill -9 of the mode
// child (Patroni) → the entrypoint exits non-zero, and the postmaster,
// which Patroni starts in a session of its own (outside the mode child's
// process group), does not outlive it. (Written by P2.)
func TestPatroniKilledEntrypointExitsAndStopsPostgres(t *testing.T) {
	testpg.Setup(t)
	testpg.NeedRoot(t, "the entrypoint drops to the postgres user that runs Patroni")
	testpg.NeedTool(t, "patroni", "patroni")
	etcd := startEtcd(t)
	m := newMembers(t, 1, etcd)[0]
	m.launch()
	pollUntil(t, "a one-member cluster", 90*time.Second, func() error {
		if m.p.exited() {
			t.Fatalf("entrypoint exited with %d:\n%s", m.p.code, m.p.out.String())
		}
		if _, err := leaderOf([]*member{m}); err != nil {
			return err
		}
		if st, err := state.Read(m.State); err != nil || st.ModeChildPID == 0 || st.PostmasterPID == 0 {
			return fmt.Errorf("state file: %+v %v", st, err)
		}
		return nil
	})
	st, err := state.Read(m.State)
	require.NoError(t, err)
	pm := st.PostmasterPID
	require.True(t, alive(pm))
	t.Cleanup(func() { _ = syscall.Kill(-pm, syscall.SIGKILL) })
	require.NoError(t, syscall.Kill(st.ModeChildPID, syscall.SIGKILL))
	code := m.p.wait(25 * time.Second)
	assert.NotEqual(t, 0, code, "the entrypoint exits non-zero when its mode child dies")
	assert.True(t, gone(pm), "postmaster %d outlived the entrypoint", pm)
	assert.Contains(t, m.p.out.String(), "PostgreSQL left by the mode child stopped")
}
