package postmaster

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// TestStopChild: the stop signal reaches the mode child only; a child that
// ignores it is killed at ChildKillAt of the budget; a grandchild (the
// postmaster under Patroni) is not signalled while the child lives, and is
// killed with the group afterwards.
func TestStopChild(t *testing.T) {
	r, stop := reaper.Background(zap.NewNop())
	t.Cleanup(stop)
	tests := []struct {
		name       string
		script     string
		budget     time.Duration
		wantKilled bool
		minTook    time.Duration
	}{
		{"exits on its stop signal", `trap 'exit 0' TERM; echo up; while :; do sleep 0.05; done`, 10 * time.Second, false, 0},
		{"ignores it: killed at 75 %", `trap '' INT TERM; echo up; while :; do sleep 0.05; done`, 800 * time.Millisecond, true, 600 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			grandchild := filepath.Join(dir, "grandchild")
			// The grandchild records a SIGTERM it receives (background jobs of sh
			// ignore SIGINT, so the stop signal here is SIGTERM).
			script := `(trap 'echo got >> ` + grandchild + `; exit 0' TERM; while :; do sleep 0.05; done) & ` + tt.script
			p := startShell(t, r, script)
			res := p.StopChild(syscall.SIGTERM, tt.budget, nil, nil)
			assert.Equal(t, tt.wantKilled, res.Killed)
			assert.GreaterOrEqual(t, res.Took, tt.minTook)
			assert.Less(t, res.Took, tt.budget)
			_, err := os.Stat(grandchild)
			assert.True(t, os.IsNotExist(err), "the grandchild was signalled while the child lived")
			// nothing of the group survives
			require.Eventually(t, func() bool { return syscall.Kill(-p.PID(), 0) != nil }, 5*time.Second, 20*time.Millisecond)
		})
	}
	t.Run("escalate kills at once", func(t *testing.T) {
		p := startShell(t, r, `trap '' INT TERM; echo up; while :; do sleep 0.05; done`)
		esc := make(chan struct{}, 1)
		esc <- struct{}{}
		res := p.StopChild(syscall.SIGINT, time.Minute, esc, nil)
		assert.True(t, res.Killed)
		assert.Less(t, res.Took, 5*time.Second)
	})
}
