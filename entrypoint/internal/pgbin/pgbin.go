package pgbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// Bin holds absolute paths of the PostgreSQL programs.
type Bin struct {
	Dir      string
	Postgres string
	Initdb   string
	PgCtl    string
	Psql     string
}

// Finder locates binaries. LookPath and Glob are injectable for tests.
type Finder struct {
	LookPath func(string) (string, error)
	Root     string // where to look for lib/postgresql/*/bin, default "/usr"
}

// Find returns the programs from one installation.
func Find() (Bin, error) { return Finder{}.Find() }

// Find returns the programs from one installation: the one whose `postgres`
// is first on PATH, else the newest under <Root>/lib/postgresql.
func (f Finder) Find() (Bin, error) {
	look := f.LookPath
	if look == nil {
		look = exec.LookPath
	}
	root := f.Root
	if root == "" {
		root = "/usr"
	}
	if p, err := look("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if abs, err := filepath.Abs(p); err == nil {
			return fromDir(filepath.Dir(abs))
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "lib", "postgresql", "*", "bin"))
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if b, err := fromDir(d); err == nil {
			return b, nil
		}
	}
	return Bin{}, errors.New("PostgreSQL not found: no `postgres` on PATH and no " + filepath.Join(root, "lib/postgresql/<version>/bin") + " (install postgresql-15 or add its bin directory to PATH)")
}

func majorOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

func fromDir(dir string) (Bin, error) {
	b := Bin{
		Dir:      dir,
		Postgres: filepath.Join(dir, "postgres"),
		Initdb:   filepath.Join(dir, "initdb"),
		PgCtl:    filepath.Join(dir, "pg_ctl"),
		Psql:     filepath.Join(dir, "psql"),
	}
	for _, p := range []string{b.Postgres, b.Initdb, b.PgCtl} {
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return Bin{}, fmt.Errorf("PostgreSQL installation in %s is incomplete: %s missing or not executable", dir, filepath.Base(p))
		}
	}
	if _, err := os.Stat(b.Psql); err != nil {
		if p, err := exec.LookPath("psql"); err == nil {
			b.Psql = p
		}
	}
	return b, nil
}
