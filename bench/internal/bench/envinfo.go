package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// environment collects the facts a result depends on. Failures leave a
// field saying so; none is fatal.
func (r *rig) environment(ctx context.Context) Environment {
	e := Environment{
		CPUs:          runtime.NumCPU(),
		GoVersion:     runtime.Version(),
		PostgreSQLBin: r.pg.Dir,
		WorkDir:       r.top,
		Filesystem:    filesystemType(r.top),
		User:          "(current user)",
	}
	e.Hostname, _ = os.Hostname()
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		e.Kernel = strings.TrimSpace(string(data))
	}
	if r.owner != nil {
		e.User = r.owner.Name
	}
	e.PostgreSQL = commandLine(ctx, "", nil, r.pg.Postgres, "--version")
	e.EntrypointVersion = strings.TrimPrefix(commandLine(ctx, "", nil, r.entrypoint, "version"), "pgdock-entrypoint ")
	// The repository is bin's parent; GIT_OPTIONAL_LOCKS=0 keeps describe
	// from refreshing the index (it only reads).
	repo := filepath.Dir(filepath.Dir(r.entrypoint))
	e.Commit = commandLine(ctx, repo, []string{"GIT_OPTIONAL_LOCKS=0"}, "git", "describe", "--always", "--dirty")
	return e
}

// commandLine runs a short command and returns its first output line, or
// "unknown (<error>)".
func commandLine(ctx context.Context, dir string, env []string, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// filesystemType names the file system holding path (it decides what an
// fsync costs).
func filesystemType(path string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return "unknown"
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x01021994:
		return "tmpfs"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x794c7630:
		return "overlayfs"
	case 0x2FC12FC1:
		return "zfs"
	}
	return "unknown"
}
