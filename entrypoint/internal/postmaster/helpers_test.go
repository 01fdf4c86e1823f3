package postmaster

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// startShell runs script in its own process group as a stand-in server and
// returns once the script printed its first line (e.g. after installing its
// traps).
func startShell(t *testing.T, r *reaper.Reaper, script string) *Process {
	t.Helper()
	c := exec.Command("/bin/sh", "-c", script)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, w, err := os.Pipe()
	require.NoError(t, err)
	defer out.Close()
	c.Stdout = w
	child, err := r.Start(c)
	w.Close()
	require.NoError(t, err)
	p := Adopt(child, "/nonexistent")
	t.Cleanup(func() { p.KillGroup(syscall.SIGKILL); <-p.Done() })
	line := make(chan struct{})
	go func() { bufio.NewReader(out).ReadString('\n'); close(line) }()
	select {
	case <-line:
	case <-time.After(10 * time.Second):
		t.Fatal("the stand-in never started")
	}
	return p
}
