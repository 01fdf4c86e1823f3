package pluginhost

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A stop requested while a plugin has not finished its handshake (the
// entrypoint cancels Start's context on SIGTERM/SIGINT) ends the start at
// once, not after the start timeout, and leaves no plugin process, even one
// that ignores SIGTERM. Before the fix Start waited for the whole timeout.
func TestStartAbortedDuringHandshake(t *testing.T) {
	tests := []struct {
		name        string
		cancelAfter func(t *testing.T, f *fixture) // returns when it is time to cancel
	}{
		{name: "plugin process running, no handshake yet", cancelAfter: func(t *testing.T, f *fixture) {
			require.Eventually(t, func() bool { return len(processesRunning(t, f.dir)) > 0 }, 10*time.Second, 5*time.Millisecond)
		}},
		{name: "at once", cancelAfter: func(*testing.T, *fixture) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultyFixture(t, map[string]string{"FAULTY_HANG_AT_START": "1m", "FAULTY_IGNORE_TERM": "true"})
			f.opts.StartTimeout = 30 * time.Second
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				m   *Manager
				err error
			}
			done := make(chan result, 1)
			go func() {
				m, err := Start(ctx, f.opts)
				done <- result{m, err}
			}()
			tt.cancelAfter(t, f)
			begin := time.Now()
			cancel()
			var r result
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Start did not return after its context was cancelled")
			}
			took := time.Since(begin)
			require.Error(t, r.err)
			assert.Nil(t, r.m)
			assert.ErrorIs(t, r.err, context.Canceled)
			assert.Less(t, took, 3*time.Second, "the stop is honoured at once, not after the start timeout")
			require.Eventually(t, func() bool { return len(processesRunning(t, f.dir)) == 0 }, 5*time.Second, 10*time.Millisecond,
				"no plugin process left")
			left, _ := os.ReadDir(f.sockets)
			assert.Empty(t, left, "socket directories removed")
		})
	}
}
