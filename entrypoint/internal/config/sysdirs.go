package config

import (
	"path"
	"strings"
)

// systemDirs are directories of the operating system or shared by every
// user. pgdock takes ownership and sets the mode of its state directory and
// of the socket directories it creates, so neither may be one of these: the
// whole tree would end up belonging to postgres. The list covers the
// Filesystem Hierarchy Standard's top level and the shared directories
// below /usr, /usr/local, /var and /run.
var systemDirs = func() map[string]bool {
	m := map[string]bool{"/": true}
	for _, d := range []string{
		"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "lost+found",
		"media", "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "tmp", "usr", "var",
		"run/lock", "run/user", "run/secrets", "run/systemd", "run/mount", "run/shm",
		"dev/shm", "dev/mqueue", "dev/pts",
		"usr/bin", "usr/games", "usr/include", "usr/lib", "usr/lib32", "usr/lib64", "usr/libexec",
		"usr/libx32", "usr/local", "usr/sbin", "usr/share", "usr/src",
		"usr/local/bin", "usr/local/etc", "usr/local/games", "usr/local/include", "usr/local/lib",
		"usr/local/man", "usr/local/sbin", "usr/local/share", "usr/local/src",
		"var/backups", "var/cache", "var/lib", "var/local", "var/lock", "var/log", "var/mail",
		"var/opt", "var/run", "var/spool", "var/tmp",
		"etc/postgresql", "usr/lib/postgresql", "usr/share/postgresql",
	} {
		m["/"+d] = true
	}
	return m
}()

// sharedStickyDirs are world-writable directories with the sticky bit,
// meant for every user's files. PostgreSQL puts its socket in /tmp by
// default, so they are fine as socket directories (pgdock then changes
// nothing about them); as PGDOCK_STATE_DIR they are not.
var sharedStickyDirs = map[string]bool{"/tmp": true, "/var/tmp": true, "/dev/shm": true, "/run/shm": true}

// pseudoFSRoots hold kernel file systems where no directory is pgdock's.
var pseudoFSRoots = []string{"/proc", "/sys", "/dev"}

// systemDirProblem says why dir (an absolute path, cleaned here first, so
// /tmp/, /./etc and //usr are caught) must not be a directory pgdock owns,
// or returns "". sticky tells whether a shared sticky directory is
// acceptable (for sockets). example is a directory to suggest instead.
func systemDirProblem(dir string, sticky bool, example string) string {
	if dir == "" || !strings.HasPrefix(dir, "/") {
		return ""
	}
	d := path.Clean(dir)
	why := ""
	switch {
	case sticky && sharedStickyDirs[d]:
		return ""
	case sharedStickyDirs[d]:
		why = d + " is shared by every user"
	case systemDirs[d]:
		why = d + " is a system directory"
	default:
		for _, root := range pseudoFSRoots {
			if strings.HasPrefix(d, root+"/") && !strings.HasPrefix(d, "/dev/shm/") {
				why = d + " is inside " + root + ", a kernel file system"
			}
		}
	}
	if why == "" {
		return ""
	}
	return why + "; pgdock makes this directory its own (owner and mode), so it must be one for pgdock alone, e.g. " + example
}
