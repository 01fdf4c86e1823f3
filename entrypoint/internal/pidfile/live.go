package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LivePostmaster reports the pid of a postmaster that is still running on
// pgdata, according to its postmaster.pid: the pid must be alive and be a
// process whose working directory is pgdata (the postmaster chdirs into its
// data directory), because in a container the recorded pid may now belong
// to an unrelated process. A live pid whose working directory cannot be read
// (another user's process) counts when its name is postgres (the safe
// answer). 0 means none.
func LivePostmaster(pgdata string) int {
	info, err := Read(pgdata)
	if err != nil || info.PID <= 0 || info.PID == os.Getpid() {
		return 0
	}
	if err := syscall.Kill(info.PID, 0); errors.Is(err, syscall.ESRCH) {
		return 0
	}
	want, err := filepath.EvalSymlinks(pgdata)
	if err != nil {
		want = pgdata
	}
	proc := filepath.Join("/proc", strconv.Itoa(info.PID))
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0 // exited meanwhile
		}
		// Another user's process: judge by its name (world-readable).
		comm, err := os.ReadFile(filepath.Join(proc, "comm"))
		if err == nil && strings.TrimSpace(string(comm)) != "postgres" {
			return 0
		}
		return info.PID
	}
	if filepath.Clean(cwd) != filepath.Clean(want) {
		return 0
	}
	return info.PID
}
