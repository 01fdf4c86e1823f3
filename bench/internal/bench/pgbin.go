package bench

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// EnvPGBinDir names PostgreSQL's bin directory when set.
const EnvPGBinDir = "PGDOCK_PG_BINDIR"

// pgBin is one PostgreSQL installation's programs.
type pgBin struct {
	Dir      string
	Postgres string
	Initdb   string
	PgCtl    string
}

// findPostgreSQL returns the programs of $PGDOCK_PG_BINDIR, else of the
// installation whose postgres is first on PATH, else of the newest
// /usr/lib/postgresql/<major>/bin.
func findPostgreSQL() (pgBin, error) {
	if d := os.Getenv(EnvPGBinDir); d != "" {
		return pgBinIn(d)
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if b, err := pgBinIn(filepath.Dir(real)); err == nil {
				return b, nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(d string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return n }
	sort.Slice(dirs, func(i, j int) bool { return major(dirs[i]) > major(dirs[j]) })
	for _, d := range dirs {
		if b, err := pgBinIn(d); err == nil {
			return b, nil
		}
	}
	return pgBin{}, fmt.Errorf("no PostgreSQL server programs found (set %s, or install postgresql-15 with `make deps`)", EnvPGBinDir)
}

func pgBinIn(dir string) (pgBin, error) {
	b := pgBin{Dir: dir, Postgres: filepath.Join(dir, "postgres"), Initdb: filepath.Join(dir, "initdb"), PgCtl: filepath.Join(dir, "pg_ctl")}
	for _, p := range []string{b.Postgres, b.Initdb, b.PgCtl} {
		if _, err := os.Stat(p); err != nil {
			return pgBin{}, fmt.Errorf("PostgreSQL programs in %s: %w", dir, err)
		}
	}
	return b, nil
}

// identity is an OS user the bare side runs PostgreSQL as.
type identity struct {
	Name     string
	UID, GID int
	Groups   []int
}

func lookupUser(name string) (identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return identity{}, fmt.Errorf("look up OS user %s: %w", name, err)
	}
	id := identity{Name: u.Username}
	if id.UID, err = strconv.Atoi(u.Uid); err != nil {
		return identity{}, fmt.Errorf("OS user %s: uid %q: %w", name, u.Uid, err)
	}
	if id.GID, err = strconv.Atoi(u.Gid); err != nil {
		return identity{}, fmt.Errorf("OS user %s: gid %q: %w", name, u.Gid, err)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return identity{}, fmt.Errorf("OS user %s: groups: %w", name, err)
	}
	for _, g := range gids {
		if n, err := strconv.Atoi(strings.TrimSpace(g)); err == nil {
			id.Groups = append(id.Groups, n)
		}
	}
	return id, nil
}
