package state

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultDir is PGDOCK_STATE_DIR when it is not set and the process may use
// it. The image creates it like the official /var/run/postgresql (mode 3777),
// so any uid can.
const DefaultDir = "/run/pgdock"

// FallbackDir is the state directory of a process running as uid that
// cannot use DefaultDir (docker run --user without the image's directory).
func FallbackDir(uid int) string {
	return filepath.Join("/tmp", "pgdock-"+strconv.Itoa(uid))
}

// ResolveDir is the one rule by which the entrypoint (writer) and the
// healthcheck (reader) find the state directory, so that both arrive at the
// same one when they run as the same uid:
//
//  1. explicit (PGDOCK_STATE_DIR), when set;
//  2. DefaultDir, when uid is 0, or when it exists and uid may create files
//     in it, or when it does not exist and uid may create it;
//  3. FallbackDir(uid) otherwise.
//
// It only looks; it creates nothing.
func ResolveDir(explicit string, uid int) string {
	if explicit != "" {
		return explicit
	}
	if uid == 0 || usable(DefaultDir, uid) {
		return DefaultDir
	}
	if _, err := os.Lstat(DefaultDir); os.IsNotExist(err) && usable(filepath.Dir(DefaultDir), uid) {
		return DefaultDir
	}
	return FallbackDir(uid)
}

// usable reports whether uid can create entries in dir (write and search).
func usable(dir string, uid int) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	if uid == os.Geteuid() {
		return syscall.Access(dir, 0o2|0o1) == nil // W_OK|X_OK
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	perm := fi.Mode().Perm()
	if int(st.Uid) == uid {
		return perm&0o300 == 0o300
	}
	return perm&0o003 == 0o003
}
