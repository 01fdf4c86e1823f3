package postmaster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// startOrphan starts postgres in a session of its own, the way Patroni
// does, not through a reaper, and waits until it is ready.
func startOrphan(t *testing.T) (pgdata string, cmd *exec.Cmd, out *syncBuf) {
	env := testpg.Setup(t)
	pgdata = env.Initdb(t)
	sock := env.Dir(t, "sock")
	out = &syncBuf{}
	cmd = env.Command(env.Bin.Postgres, "-D", pgdata, "-c", "listen_addresses=", "-k", sock, "-p", strconv.Itoa(testpg.FreePort(t)))
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	waited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(waited) }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-waited })
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := pidfile.Read(pgdata)
		if err == nil && info.PID == cmd.Process.Pid && info.Ready() {
			return pgdata, cmd, out
		}
		require.True(t, time.Now().Before(deadline), "postgres never became ready:\n%s", out.String())
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopOrphan(t *testing.T) {
	tests := []struct {
		name      string
		budget    time.Duration
		wantFinal Mode
		wantLog   string
	}{
		{"fast shutdown inside the budget", 20 * time.Second, Fast, "received fast shutdown request"},
		{"a spent budget goes straight to SIGKILL", 0, Kill, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pgdata, cmd, out := startOrphan(t)
			var steps []Mode
			res := StopOrphan(pgdata, tt.budget, func(m Mode, pid int) {
				assert.Equal(t, cmd.Process.Pid, pid)
				steps = append(steps, m)
			})
			assert.Equal(t, cmd.Process.Pid, res.PID)
			assert.True(t, res.Gone, "the postmaster still runs:\n%s", out.String())
			assert.Equal(t, tt.wantFinal, res.Final)
			assert.Equal(t, tt.wantFinal, steps[len(steps)-1])
			assert.True(t, processGone(cmd.Process.Pid))
			if tt.wantLog != "" {
				assert.Contains(t, out.String(), tt.wantLog)
			}
		})
	}
}

// TestStopOrphanLeavesOthersAlone: no postmaster.pid, or one naming a live
// process that does not serve this data directory (a reused pid), stops
// nothing.
func TestStopOrphanLeavesOthersAlone(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, OrphanResult{}, StopOrphan(dir, time.Second, nil))

	other := exec.Command("sleep", "60")
	other.Dir = t.TempDir()
	require.NoError(t, other.Start())
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	pf := strconv.Itoa(other.Process.Pid) + "\n" + dir + "\n0\n5432\n/tmp\n\n0 0\nready   \n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte(pf), 0o600))
	assert.Equal(t, OrphanResult{}, StopOrphan(dir, time.Second, func(Mode, int) { t.Error("a signal was sent") }))
	assert.False(t, processGone(other.Process.Pid), "the unrelated process was stopped")
}
