package fsutil

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// IsMountPoint reports whether path (cleaned, links not followed) is a
// mount point of this process's mount namespace, from /proc/self/mountinfo;
// the error is that file's when it cannot be read, and the caller decides
// what an unknown answer means.
func IsMountPoint(path string) (bool, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	return MountInfoHas(string(b), filepath.Clean(path)), nil
}

// MountInfoHas reports whether a mountinfo text lists path as a mount point
// (the fifth field, with spaces and the like octal-escaped).
func MountInfoHas(mountinfo, path string) bool {
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMount(f[4]) == path {
			return true
		}
	}
	return false
}

// unescapeMount undoes the kernel's \ooo escapes in a mountinfo path.
func unescapeMount(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
