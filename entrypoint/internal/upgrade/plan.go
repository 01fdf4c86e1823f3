package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Ports of the temporary servers: their sockets are in the private socket
// directory, so they cannot collide with anything else.
const (
	oldPort = 50432
	newPort = 50433
)

// plan is what an upgrade needs to know about the old cluster and the two
// installations.
type plan struct {
	from, to  int
	oldBin    string // the old major's bin directory
	libPath   string // the old release's own shared libraries, or ""
	newShare  string // the new major's share directory ("" when unknown)
	superuser string // the install user (OID 10), which pg_upgrade requires
	encoding  string
	collate   string
	ctype     string
	provider  string // c (libc), i (ICU), b (builtin); "" before 15
	locale    string // the ICU or builtin locale
	checksums bool
	walSegMB  int
	databases []string
	exts      []extension
}

type extension struct{ db, name, version string }

// compatDir is where the upgrade image keeps the old release's shared
// libraries whose sonames the new release does not have (libicu, libssl,
// libldap, LLVM of the older Debian): beside the old bin directory. Only
// the old programs (and pg_upgrade, which runs them) get it on
// LD_LIBRARY_PATH.
func compatDir(oldBin string) string { return filepath.Join(filepath.Dir(oldBin), "compat-lib") }

// findOldBin locates the old major's programs and the old release's
// libraries.
func (o *Options) findOldBin(from int) (bin, libPath string, err error) {
	bin = o.Config.OldBinDir
	source := EnvOldBinDir
	if bin == "" {
		bin = filepath.Join(o.oldRoot(), strconv.Itoa(from), "bin")
		source = "the default"
	}
	for _, prog := range []string{"postgres", "pg_ctl", "pg_controldata"} {
		st, err := os.Stat(filepath.Join(bin, prog))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", "", fmt.Errorf("PGDATA holds a PostgreSQL %d cluster, but PostgreSQL %d's programs are not in this image (%s/%s missing, %s): "+
				"pg_upgrade needs both majors. Use the upgrade image pgdock/postgres-upgrade:%d-to-%d (make image-upgrade FROM=%d TO=%d), "+
				"or install postgresql-%d and set %s to its bin directory; nothing was changed",
				from, from, bin, prog, source, from, o.to, from, o.to, from, EnvOldBinDir)
		}
	}
	if st, err := os.Stat(compatDir(bin)); err == nil && st.IsDir() {
		libPath = compatDir(bin)
	}
	return bin, libPath, nil
}

// oldRoot is where Debian installs every major (/usr/lib/postgresql).
func (o *Options) oldRoot() string {
	if o.LibRoot != "" {
		return o.LibRoot
	}
	return "/usr/lib/postgresql"
}

// shareDir is Debian's share directory of the installation in binDir
// (/usr/lib/postgresql/15/bin → /usr/share/postgresql/15), or "".
func shareDir(binDir string, major int) string {
	root := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(binDir)))) // /usr
	d := filepath.Join(root, "share", "postgresql", strconv.Itoa(major))
	if st, err := os.Stat(filepath.Join(d, "extension")); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// controlData reads what initdb must repeat from the old pg_controldata.
func (o *Options) controlData(ctx context.Context, p *plan) error {
	out, err := o.run(ctx, "/", o.oldEnv(p, "LC_ALL=C"), nil, filepath.Join(p.oldBin, "pg_controldata"), "-D", o.PGData)
	if err != nil {
		return fmt.Errorf("read the old cluster's control file: %w", err)
	}
	f := parseControlData(out)
	p.checksums = f["Data page checksum version"] != "" && f["Data page checksum version"] != "0"
	if seg, err := strconv.Atoi(f["Bytes per WAL segment"]); err == nil && seg > 0 {
		p.walSegMB = seg / (1 << 20)
	}
	switch state := f["Database cluster state"]; state {
	case "shut down", "in production", "shut down in recovery", "":
	default:
		o.Log.Info("upgrade: the old cluster was not shut down cleanly (" + state + "); its server is started once to recover")
	}
	return nil
}

// parseControlData turns pg_controldata's "Name:   value" lines into a map.
func parseControlData(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// inspect starts the old server (socket-only, trusted local connections in
// the private directory) and reads the install user, template0's encoding
// and locale, the databases and their extensions. The start also recovers
// a cluster that was not shut down cleanly, which pg_upgrade requires.
func (o *Options) inspect(ctx context.Context, p *plan) error {
	srv, err := o.startServer(ctx, filepath.Join(p.oldBin, "postgres"), o.PGData, oldPort, o.oldEnv(p))
	if err != nil {
		return fmt.Errorf("start the old PostgreSQL %d server to read its settings: %w", p.from, err)
	}
	qerr := o.query(ctx, p)
	if err := o.stopServer(srv); err != nil && qerr == nil {
		qerr = err
	}
	return qerr
}

// query reads the old server: the install user, whether it is a standby,
// template0's encoding and locale, the databases and their extensions.
func (o *Options) query(ctx context.Context, p *plan) error {
	// Until the install user's name is known: POSTGRES_USER, then the
	// usual names.
	q := "SELECT rolname, pg_is_in_recovery()::text FROM pg_authid WHERE oid = 10"
	var row []string
	var err error
	for _, u := range uniq(o.User, "postgres", currentUser()) {
		if row, err = o.psqlOne(ctx, oldPort, u, "template1", q, 2); err == nil || !connFailed(err) {
			break
		}
	}
	if connFailed(err) {
		return fmt.Errorf("connect to the old server as %s or postgres: %w", o.User, err)
	}
	if err != nil {
		return fmt.Errorf("read the install user: %w", err)
	}
	p.superuser = row[0]
	if row[1] == "true" {
		return errors.New("PGDATA is a standby (in recovery): upgrade the primary, then make this standby again from the upgraded primary (pg_basebackup); nothing was changed")
	}
	q = "SELECT pg_encoding_to_char(encoding), datcollate, datctype, '', '' FROM pg_database WHERE datname = 'template0'"
	switch {
	case p.from >= 17:
		q = "SELECT pg_encoding_to_char(encoding), datcollate, datctype, datlocprovider::text, coalesce(datlocale, '') FROM pg_database WHERE datname = 'template0'"
	case p.from >= 15:
		q = "SELECT pg_encoding_to_char(encoding), datcollate, datctype, datlocprovider::text, coalesce(daticulocale, '') FROM pg_database WHERE datname = 'template0'"
	}
	if row, err = o.psqlOne(ctx, oldPort, p.superuser, "template1", q, 5); err != nil {
		return fmt.Errorf("read template0's encoding and locale: %w", err)
	}
	p.encoding, p.collate, p.ctype, p.provider, p.locale = row[0], row[1], row[2], row[3], row[4]
	if p.databases, err = o.databases(ctx, oldPort, p.superuser); err != nil {
		return fmt.Errorf("list the old server's databases: %w", err)
	}
	for _, db := range p.databases {
		exts, err := o.extensions(ctx, oldPort, p.superuser, db)
		if connFailed(err) {
			return fmt.Errorf("connect to database %q: %w", db, err)
		}
		if err != nil {
			return fmt.Errorf("list the extensions of database %q: %w", db, err)
		}
		p.exts = append(p.exts, exts...)
	}
	return nil
}

// missingExtensions names the old cluster's extensions that the new
// installation does not have (no <share>/extension/<name>.control).
func missingExtensions(p *plan) error {
	if p.newShare == "" {
		return nil
	}
	byName := map[string][]string{}
	for _, e := range p.exts {
		if _, err := os.Stat(filepath.Join(p.newShare, "extension", e.name+".control")); errors.Is(err, fs.ErrNotExist) {
			byName[e.name] = append(byName[e.name], fmt.Sprintf("%q (version %s)", e.db, e.version))
		}
	}
	if len(byName) == 0 {
		return nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var lines []string
	for _, n := range names {
		lines = append(lines, fmt.Sprintf("extension %s, installed in database %s, is not available for PostgreSQL %d in this image",
			n, strings.Join(byName[n], ", "), p.to))
	}
	return fmt.Errorf("%s; install the extensions' packages for PostgreSQL %d in the image (postgresql-%d-<name>), "+
		"or DROP EXTENSION them in the old cluster first; nothing was changed", strings.Join(lines, "; "), p.to, p.to)
}

// initdbArgs repeat the old cluster's encoding, locale, checksums and WAL
// segment size, which pg_upgrade requires to match, and its install user.
func initdbArgs(p *plan, dir string) []string {
	a := []string{"-D", dir, "--username=" + p.superuser, "--encoding=" + p.encoding,
		"--lc-collate=" + p.collate, "--lc-ctype=" + p.ctype, "--auth-local=peer", "--auth-host=scram-sha-256"}
	switch p.provider {
	case "i":
		a = append(a, "--locale-provider=icu", "--icu-locale="+p.locale)
	case "b":
		a = append(a, "--locale-provider=builtin", "--builtin-locale="+p.locale)
	}
	if p.checksums {
		a = append(a, "--data-checksums")
	} else if p.to >= 18 {
		a = append(a, "--no-data-checksums") // on by default from 18
	}
	if p.walSegMB > 0 && p.walSegMB != 16 {
		a = append(a, fmt.Sprintf("--wal-segsize=%d", p.walSegMB))
	}
	return a
}

// clusterSize is the bytes of the regular files of the old cluster (the
// staging directory and earlier old clusters left out): what copy mode
// needs free.
func clusterSize(pgdata string) (int64, error) {
	var n int64
	err := filepath.WalkDir(pgdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != pgdata && filepath.Dir(path) == pgdata && skipTop(d.Name()) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n, err
}

// freeBytes is what an unprivileged user may still write on path's file system.
func freeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// skipTop: entries at PGDATA's top that are not the old cluster's.
func skipTop(name string) bool {
	return name == DirName || name == "lost+found" || strings.HasPrefix(name, OldPrefix)
}

func uniq(s ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
