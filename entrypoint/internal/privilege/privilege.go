package privilege

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Identity is the OS user the server runs as.
type Identity struct {
	Name   string
	UID    int
	GID    int
	Groups []int // supplementary groups
	Home   string
}

// Lookup finds an OS user by name (the official image uses "postgres").
func Lookup(name string) (Identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Identity{}, fmt.Errorf("look up OS user %q: %w (the image must contain it)", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	id := Identity{Name: name, UID: uid, GID: gid, Home: u.HomeDir}
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			if n, err := strconv.Atoi(g); err == nil {
				id.Groups = append(id.Groups, n)
			}
		}
	}
	return id, nil
}

// Current describes the running process (uid may have no passwd entry).
func Current() Identity {
	id := Identity{UID: os.Getuid(), GID: os.Getgid()}
	if u, err := user.LookupId(strconv.Itoa(id.UID)); err == nil {
		id.Name, id.Home = u.Username, u.HomeDir
	}
	return id
}

// HasPasswdEntry reports whether uid resolves to a user name.
func HasPasswdEntry(uid int) bool {
	_, err := user.LookupId(strconv.Itoa(uid))
	return err == nil
}

// EnsureDir creates dir (and parents) if needed and sets its mode. Errors on
// chmod are returned only when strict is true (the official image ignores
// chmod failures on PGDATA, e.g. on some bind mounts).
func EnsureDir(dir string, mode fs.FileMode, strict bool) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, mode); err != nil && strict {
		return fmt.Errorf("set mode %o on %s: %w", mode, dir, err)
	}
	return nil
}

// MakeDir creates dir with mode (setgid and sticky bits included, whatever
// the umask) when it does not exist, its missing parents with 0755, and
// reports whether it did. An existing directory (or a symlink to one) is
// left exactly as it is.
func MakeDir(dir string, mode fs.FileMode) (created bool, err error) {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return false, fmt.Errorf("%s exists and is not a directory", dir)
		}
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return false, fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, mode.Perm()); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil // made by someone else meanwhile
		}
		return false, fmt.Errorf("create directory %s: %w", dir, err)
	}
	// syscall.Chmod keeps the setgid and sticky bits that os.Chmod takes
	// from mode's Go flags only.
	if err := syscall.Chmod(dir, uint32(mode.Perm())|unixBits(mode)); err != nil {
		return true, fmt.Errorf("set mode %o on %s: %w", mode, dir, err)
	}
	return true, nil
}

// unixBits turns a literal 0o3775-style mode's high bits into chmod's.
func unixBits(mode fs.FileMode) uint32 {
	return uint32(mode) & 0o7000
}

// ChownDirs gives each directory (not its content) to uid:gid. It is meant
// for directories MakeDir created.
func ChownDirs(uid, gid int, dirs ...string) error {
	for _, d := range dirs {
		if err := os.Chown(d, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", d, err)
		}
	}
	return nil
}

// FixOwnership walks each root and chowns to uid every entry not owned by it
// (owner only, like the official image's `find ! -user postgres -exec chown`).
// It returns how many entries it changed. A root that is a symlink is
// followed (as `find "$PGDATA/"` does); symlinks below it are changed, not
// followed.
func FixOwnership(uid, gid int, roots ...string) (int, error) {
	changed := 0
	for _, root := range roots {
		if root == "" {
			continue
		}
		if real, err := filepath.EvalSymlinks(root); err == nil {
			root = real
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			info, err := d.Info()
			if err != nil {
				return nil // vanished
			}
			st, ok := info.Sys().(*syscall.Stat_t)
			if !ok || int(st.Uid) == uid {
				return nil
			}
			g := int(st.Gid)
			if p == root {
				g = gid // the top directory also gets the group, as mkdir by the user would
			}
			if err := os.Lchown(p, uid, g); err != nil {
				return fmt.Errorf("chown %s: %w", p, err)
			}
			changed++
			return nil
		})
		if err != nil {
			return changed, fmt.Errorf("fix ownership under %s: %w", root, err)
		}
	}
	return changed, nil
}

// Drop switches the whole process to id (groups, gid, then uid). It can be
// called once; afterwards the process cannot regain root.
func Drop(id Identity) error {
	groups := id.Groups
	if len(groups) == 0 {
		groups = []int{id.GID}
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(id.GID); err != nil {
		return fmt.Errorf("setgid %d: %w", id.GID, err)
	}
	if err := syscall.Setuid(id.UID); err != nil {
		return fmt.Errorf("setuid %d: %w", id.UID, err)
	}
	if id.Home != "" {
		os.Setenv("HOME", id.Home)
	}
	if id.Name != "" {
		os.Setenv("USER", id.Name)
		os.Setenv("LOGNAME", id.Name)
	}
	return nil
}
