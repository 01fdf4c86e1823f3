package upgrade

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A socket lock of a gone or zombie postmaster is removed (with its
// socket); a live one's is kept.
func TestClearStaleSocketLocks(t *testing.T) {
	zombie := exec.Command("true")
	require.NoError(t, zombie.Start()) // not waited for until the end: a zombie meanwhile
	require.Eventually(t, func() bool { return deadOrZombie(zombie.Process.Pid) }, 5*time.Second, 10*time.Millisecond)
	defer func() { _ = zombie.Wait() }()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())

	dir := t.TempDir()
	for _, tc := range []struct {
		port, pid int
		kept      bool
	}{
		{5432, os.Getpid(), true},
		{5433, dead.Process.Pid, false},
		{5434, zombie.Process.Pid, false},
	} {
		sock := filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(tc.port))
		require.NoError(t, os.WriteFile(sock, nil, 0o600))
		require.NoError(t, os.WriteFile(sock+".lock", []byte(strconv.Itoa(tc.pid)+"\n/data\n"), 0o600))
		defer func(sock string, kept bool) {
			_, err := os.Stat(sock + ".lock")
			assert.Equal(t, kept, err == nil, "%s kept", sock)
			_, err = os.Stat(sock)
			assert.Equal(t, kept, err == nil, "%s socket kept", sock)
		}(sock, tc.kept)
	}
	clearStaleSocketLocks(dir)
}
