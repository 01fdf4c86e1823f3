package app

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A stop signal caught before Main (Options.Signals, filled by
// earlysignal while cmd/pgdock-entrypoint's packages initialise) is a
// clean stop, whatever start-up was doing when it came: as PID 1, one that
// arrived before serve's own signal.Notify was the Go runtime's exit 2.
func TestSignalCaughtBeforeMainStopsCleanly(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM (docker stop)", syscall.SIGTERM},
		{"SIGINT (the images' STOPSIGNAL)", syscall.SIGINT},
		{"SIGQUIT", syscall.SIGQUIT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sigs := make(chan os.Signal, 1)
			sigs <- tc.sig
			var out bytes.Buffer
			o := Options{
				Env: map[string]string{
					"SLEEP_MODE":       "true",
					"PGDATA":           filepath.Join(dir, "data"),
					"PGDOCK_STATE_DIR": filepath.Join(dir, "state"),
				},
				Stdout: &out, Stderr: &out, Signals: sigs,
			}
			done := make(chan int, 1)
			go func() { done <- Main(nil, o) }()
			select {
			case code := <-done:
				assert.Equal(t, ExitOK, code, out.String())
				assert.Contains(t, out.String(), "sleep mode: stop requested")
			case <-time.After(10 * time.Second):
				t.Fatalf("Main did not return after a queued %v:\n%s", tc.sig, out.String())
			}
			_, err := os.Stat(filepath.Join(dir, "data"))
			assert.True(t, os.IsNotExist(err), "PGDATA untouched")
		})
	}
}
