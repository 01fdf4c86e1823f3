package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// processesIn lists the live processes whose working directory is root or
// below it (PostgreSQL's postmaster and backends work in PGDATA; every child
// the bench starts works in its sandbox), except the bench itself.
func processesIn(root string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil {
			continue
		}
		cwd = strings.TrimSuffix(cwd, " (deleted)")
		if (cwd == root || strings.HasPrefix(cwd, root+string(filepath.Separator))) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// isPlugin reports whether pid runs a pgdock plugin binary; the sweep only
// kills pids named by a state file when they still are plugins.
func isPlugin(pid int) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && strings.HasPrefix(filepath.Base(exe), "pgdock-plugin-")
}

// sweep ends every process found in root plus the given plugin pids:
// SIGQUIT first (PostgreSQL's immediate shutdown, which also releases its
// shared memory), SIGKILL after grace. It returns the pids it found.
func sweep(root string, pluginPIDs []int, grace time.Duration) []int {
	find := func() []int {
		pids := processesIn(root)
		for _, p := range pluginPIDs {
			if p > 0 && alive(p) && isPlugin(p) {
				pids = append(pids, p)
			}
		}
		return pids
	}
	found := find()
	if len(found) == 0 {
		return nil
	}
	for _, p := range found {
		_ = syscall.Kill(p, syscall.SIGQUIT)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && len(find()) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range find() {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	deadline = time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && len(find()) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	return found
}
