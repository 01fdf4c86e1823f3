package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// TestStopSignalAsPID1DuringStartUp runs the entrypoint as PID 1 of a new
// PID namespace, as in a container, and sends SIGTERM a few milliseconds
// into its start-up. As PID 1 a stop signal that reaches the Go runtime
// before anything subscribed is "exit 2" (the kernel ignores the default
// action for init); the entrypoint subscribes while its packages
// initialise (earlysignal), so each of these is a clean stop, exit 0.
// The subscription comes about 4 ms after exec on an idle machine (GODEBUG=
// inittrace=1); before it remains a window no Go program can close: the
// runtime's own start (before its handlers exist the kernel drops the
// signal for an init process) and the few packages initialised before
// earlysignal. The offsets leave that window out with room for a loaded
// machine; before earlysignal (a subscription in main, ~20 ms, or in serve,
// later still) they failed.
func TestStopSignalAsPID1DuringStartUp(t *testing.T) {
	testpg.NeedRoot(t, "a new PID namespace needs CAP_SYS_ADMIN")
	for _, after := range []time.Duration{25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
		for i := range 4 {
			t.Run(fmt.Sprintf("%s/%d", after, i), func(t *testing.T) {
				s := newSite(t).set("SLEEP_MODE", "true")
				p := s.startIn(&syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWPID})
				time.Sleep(after - time.Since(p.start))
				p.signal(syscall.SIGTERM)
				code := p.wait(10 * time.Second)
				assert.Equal(t, 0, code, "exit status after SIGTERM %s into start-up (2: the Go runtime's default, not a clean stop):\n%s", after, p.out.String())
				assert.NoFileExists(t, filepath.Join(s.PGData, "PG_VERSION"))
			})
		}
	}
}

// TestSignalsCaughtBeforeTheHeavyPackagesInitialise reads Go's own trace of
// package initialisation (GODEBUG=inittrace=1): earlysignal subscribes
// before gRPC, protobuf, zap and the entrypoint's own packages initialise,
// so the window in which a stop signal is the runtime's exit 2 is only the
// runtime's start and a few small standard packages.
func TestSignalsCaughtBeforeTheHeavyPackagesInitialise(t *testing.T) {
	cmd := exec.Command(binary, "version")
	cmd.Env = []string{"GODEBUG=inittrace=1", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	order := map[string]int{}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "init" {
			order[f[1]] = n
			n++
		}
	}
	early, ok := order["github.com/pgdock/pgdock/entrypoint/internal/earlysignal"]
	require.True(t, ok, "earlysignal not initialised:\n%s", out)
	for _, heavy := range []string{"google.golang.org/grpc", "google.golang.org/protobuf/reflect/protoregistry", "go.uber.org/zap", "github.com/pgdock/pgdock/entrypoint/internal/app"} {
		i, ok := order[heavy]
		if !ok {
			continue // no init of its own in this build
		}
		assert.Less(t, early, i, "earlysignal initialises after %s", heavy)
	}
	assert.Less(t, early, n/4, "earlysignal is package %d of %d to initialise", early, n)
}
