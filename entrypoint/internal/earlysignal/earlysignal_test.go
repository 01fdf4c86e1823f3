package earlysignal

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary itself imports the package: a signal sent to it before
// any test code subscribed is already on the channel.
func TestCaughtFromInit(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT} {
		require.NoError(t, syscall.Kill(os.Getpid(), sig))
		select {
		case got := <-Channel():
			assert.Equal(t, sig, got)
		case <-time.After(5 * time.Second):
			t.Fatalf("%v not delivered to the early channel", sig)
		}
	}
}

// After Release a SIGTERM has its default action again: the process dies
// of it (run in a child, which the helper below turns into that process).
func TestReleaseRestoresTheDefault(t *testing.T) {
	if os.Getenv("EARLYSIGNAL_CHILD") == "1" {
		Release()
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(5 * time.Second)
		os.Exit(0) // not reached when SIGTERM killed the process
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestReleaseRestoresTheDefault$")
	cmd.Env = append(os.Environ(), "EARLYSIGNAL_CHILD=1")
	err := cmd.Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	ws := ee.Sys().(syscall.WaitStatus)
	assert.True(t, ws.Signaled(), "want death by signal, got %v", err)
	assert.Equal(t, syscall.SIGTERM, ws.Signal())
}

func TestSignals(t *testing.T) {
	var names []string
	for _, s := range Signals() {
		names = append(names, s.String())
	}
	assert.Equal(t, "terminated,interrupt,quit,hangup", strings.Join(names, ","))
}
