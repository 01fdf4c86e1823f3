package pgbin

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
)

// FindBinDir returns PostgreSQL's bin directory the way the entrypoint finds
// it: the directory of `postgres` on PATH, else the newest
// <root>/lib/postgresql/<major>/bin (lookPath nil: exec.LookPath; root
// "": /usr).
func FindBinDir(lookPath func(string) (string, error), root string) (string, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if root == "" {
		root = "/usr"
	}
	if p, err := lookPath("postgres"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "lib", "postgresql", "*", "bin", "postgres"))
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(d))))
		if err == nil && major > bestMajor {
			best, bestMajor = filepath.Dir(d), major
		}
	}
	if best == "" {
		return "", errors.New("no postgres on PATH nor under " + filepath.Join(root, "lib", "postgresql", "<major>", "bin") + " (Debian package postgresql-<major>)")
	}
	return best, nil
}
