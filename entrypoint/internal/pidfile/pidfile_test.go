package pidfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

func TestParse(t *testing.T) {
	full := "4242\n/var/lib/postgresql/data\n1700000000\n5432\n/var/run/postgresql\n*\n  5432001         0\nready   \n"
	i, err := Parse(full)
	require.NoError(t, err)
	assert.Equal(t, Info{PID: 4242, DataDir: "/var/lib/postgresql/data", Port: 5432, SocketDir: "/var/run/postgresql", Listen: "*", Status: "ready"}, i)
	assert.True(t, i.Ready())

	for _, tc := range []struct {
		in    string
		ready bool
		err   bool
	}{
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstarting\n", false, false},
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstandby \n", true, false},
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstopping\n", false, false},
		{"1\n/d\n", false, false}, // early in startup: not all lines yet
		{"", false, true},
		{"abc\n", false, true},
	} {
		got, err := Parse(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.ready, got.Ready(), tc.in)
	}
}

func TestRead(t *testing.T) {
	d := t.TempDir()
	_, err := Read(d)
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(filepath.Join(d, "postmaster.pid"), []byte("7\n"+d+"\n"), 0o600))
	i, err := Read(d)
	require.NoError(t, err)
	assert.Equal(t, 7, i.PID)
}

func TestLivePostmaster(t *testing.T) {
	d := t.TempDir()
	assert.Zero(t, LivePostmaster(d), "no postmaster.pid")

	// A live process whose working directory is PGDATA stands in for a postmaster.
	cmd := exec.Command("/bin/sh", "-c", "read x")
	cmd.Dir = d
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	pid := cmd.Process.Pid
	write := func(pid int) {
		require.NoError(t, os.WriteFile(filepath.Join(d, "postmaster.pid"), []byte(strconv.Itoa(pid)+"\n"+d+"\n"), 0o600))
	}
	write(pid)
	assert.Equal(t, pid, LivePostmaster(d))

	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(d, link))
	assert.Equal(t, pid, LivePostmaster(link), "PGDATA through a symlink")

	write(os.Getppid()) // alive, but its working directory is elsewhere: a reused pid
	assert.Zero(t, LivePostmaster(d))

	write(os.Getpid())
	assert.Zero(t, LivePostmaster(d), "ourselves")

	dead := exec.Command("/bin/true")
	require.NoError(t, dead.Run())
	write(dead.Process.Pid)
	assert.Zero(t, LivePostmaster(d), "a dead pid")
}

// A live process of another user (working directory unreadable) counts only
// when it is named postgres.
func TestLivePostmasterOfAnotherUser(t *testing.T) {
	prereq.NeedRoot(t, "start a process as another uid")
	d := t.TempDir()
	require.NoError(t, os.Chmod(d, 0o755))
	cmd := exec.Command("/bin/sh", "-c", "read x")
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	require.NoError(t, os.WriteFile(filepath.Join(d, "postmaster.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644))
	// As root the working directory is readable: "/" is not PGDATA.
	assert.Zero(t, LivePostmaster(d))
}
