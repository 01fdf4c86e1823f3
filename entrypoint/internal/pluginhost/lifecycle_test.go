package pluginhost

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// A plugin's children share its process group; a crash or a stop takes them
// too, and the crash is reported even though the child still held the
// plugin's stderr open.
func TestChildrenOfAPluginAreCleanedUp(t *testing.T) {
	tests := []struct {
		name  string
		crash bool
	}{
		{name: "crash", crash: true},
		{name: "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"FAULTY_SPAWN_CHILD": "true"}
			if tt.crash {
				env["FAULTY_CRASH_AFTER"] = "300ms"
			}
			f := newFaultyFixture(t, env)
			m := f.start(t)
			pid := m.Descriptions()[0].Pid
			require.Eventually(t, func() bool { return len(groupAlive(t, pid)) == 2 }, 5*time.Second, 20*time.Millisecond,
				"plugin and its child run in the plugin's group")
			if tt.crash {
				select {
				case ev := <-m.Crashed():
					assert.Equal(t, 3, ev.ExitCode)
				case <-time.After(5 * time.Second):
					t.Fatal("no crash event while a child holds the plugin's stderr")
				}
			} else {
				m.Stop()
			}
			require.Eventually(t, func() bool { return len(groupAlive(t, pid)) == 0 }, 5*time.Second, 20*time.Millisecond,
				"nothing of the plugin's group is left")
		})
	}
}

// If the entrypoint dies without stopping anything (SIGKILL), the kernel
// kills its plugins (Pdeathsig).
func TestPluginsDieWithTheirHost(t *testing.T) {
	f := newFixture(t, nil)
	host := exec.Command(os.Args[0], "-test.run=^$")
	host.Env = append(os.Environ(), hostHelperEnv+"="+f.dir, "PLUGINHOST_TEST_SOCKETS="+f.sockets)
	out, err := host.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, host.Start())
	t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err, "host helper said %q", line)
	require.NotEmpty(t, groupAlive(t, pid))
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }) // only if the test fails

	require.NoError(t, host.Process.Signal(syscall.SIGKILL))
	_ = host.Wait()
	require.Eventually(t, func() bool { return len(groupAlive(t, pid)) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the plugin outlived its host")
}

// The healthcheck's view: ProbeHealth with the Manager's state entries,
// while the Manager keeps using the plugin.
func TestStateEntriesWorkWithProbeHealth(t *testing.T) {
	m := newFixture(t, nil).start(t)
	entry := m.StateEntries()[0]
	for range 3 {
		res, err := sdk.ProbeHealth(testCtx(t), entry)
		require.NoError(t, err)
		assert.True(t, res.Healthy)
	}
	assert.NoError(t, syscall.Kill(entry.Reattach.Pid, 0))
	assert.True(t, m.Health(testCtx(t))[0].Healthy, "the host's own connection still works")
}
