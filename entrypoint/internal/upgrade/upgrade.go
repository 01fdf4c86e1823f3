package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/pgversion"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// Options configure one run. The caller holds PGDATA's lock and runs as the
// server's user.
type Options struct {
	PGData string
	Bin    pgbin.Bin // this image's PostgreSQL (the new major)
	Config Config
	// User is POSTGRES_USER: the first role tried on the old server.
	User string
	// SocketDir is a private directory (made 0700) with a short path for
	// the temporary servers' sockets and their trusting pg_hba.
	SocketDir string
	// Env is the base environment of PostgreSQL's programs (no secrets).
	Env []string
	// Reaper starts every process (required).
	Reaper *reaper.Reaper
	Log    *zap.Logger
	// Stdout receives pg_upgrade's progress and the temporary servers' logs.
	Stdout     io.Writer
	StopBudget time.Duration
	// LibRoot is where every major is installed, default /usr/lib/postgresql.
	LibRoot string
	// SameMajor lets tests upgrade a cluster to its own major (pg_upgrade
	// accepts that; a start does not ask for it).
	SameMajor bool
	// Now is the clock (tests); default time.Now.
	Now func() time.Time

	to int // the new major, set by Run
}

// Result says what Run did.
type Result struct {
	// Upgraded: PGDATA was upgraded (or an interrupted upgrade finished).
	Upgraded bool
	// RolledBack: an interrupted upgrade was undone; PGDATA holds the old
	// cluster again.
	RolledBack bool
	From, To   int
	Mode       Mode
	OldDir     string // where the old cluster was kept
	Took       time.Duration
}

// Pending reports whether a start must call Run before anything else looks
// at PGDATA: an upgrade is asked for, or one was interrupted (its state
// directory exists). The mismatch refusal of the preflight does not apply
// then.
func Pending(pgdata string, c Config) bool { return c.Requested || Interrupted(pgdata) }

// Interrupted reports whether an upgrade of pgdata was interrupted: its
// staging directory exists.
func Interrupted(pgdata string) bool {
	_, err := os.Lstat(pathsOf(pgdata).dir)
	return err == nil
}

// Run upgrades PGDATA when it holds an older major and an upgrade is
// requested, and finishes or rolls back an upgrade a crash interrupted
// (whatever is requested). With nothing to do it returns at once.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Reaper == nil {
		return Result{}, errors.New("upgrade: no reaper")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// What a crash during a removal left (never the old cluster).
	_ = os.RemoveAll(filepath.Join(o.PGData, trashName))
	st, err := ReadState(o.PGData)
	if err != nil {
		return Result{}, err
	}
	if st == nil && !o.Config.Requested {
		return Result{}, nil
	}
	to, err := pgversion.FromBinDir(ctx, o.Bin.Dir)
	if err != nil {
		return Result{}, fmt.Errorf("upgrade: which PostgreSQL this image runs: %w", err)
	}
	o.to = int(to)
	if st != nil {
		return o.resume(ctx, *st)
	}
	from, err := pgversion.FromDataDir(o.PGData)
	if errors.Is(err, pgversion.ErrNoVersion) {
		o.Log.Info(EnvUpgrade + "=true: PGDATA holds no cluster yet; nothing to upgrade")
		return Result{}, nil
	}
	if err != nil {
		return Result{}, err
	}
	switch {
	case int(from) == o.to && !o.SameMajor:
		o.Log.Info(fmt.Sprintf("%s=true: PGDATA already holds PostgreSQL %d; nothing to upgrade (the variable may be removed)", EnvUpgrade, o.to))
		return Result{}, nil
	case int(from) > o.to:
		return Result{}, fmt.Errorf("PGDATA holds PostgreSQL %s, newer than this image's %d: a cluster cannot be downgraded; run the pgdock/postgres:%s image", from, o.to, from)
	case from < 10:
		return Result{}, fmt.Errorf("PGDATA holds PostgreSQL %s: pgdock upgrades from 10 on (pgdock builds 13, 15, 17 and 18); upgrade it with that release's tools first", from)
	}
	return o.upgrade(ctx, int(from))
}

// upgrade runs a fresh upgrade from major from to o.to.
func (o *Options) upgrade(ctx context.Context, from int) (Result, error) {
	start := o.Now()
	p := &plan{from: from, to: o.to}
	mode := o.Config.Mode
	o.Log.Info(fmt.Sprintf("upgrade: PostgreSQL %d → %d with pg_upgrade (%s mode)", from, o.to, mode), zap.String("pgdata", o.PGData))
	var err error
	if p.oldBin, p.libPath, err = o.findOldBin(from); err != nil {
		return Result{}, err
	}
	p.newShare = shareDir(o.Bin.Dir, o.to)
	if _, err := os.Stat(filepath.Join(o.PGData, "standby.signal")); err == nil {
		return Result{}, errors.New("PGDATA is a standby (standby.signal): upgrade the primary, then make this standby again from the upgraded primary (pg_basebackup); nothing was changed")
	}
	if mode == Copy {
		if err := o.checkSpace(); err != nil {
			return Result{}, err
		}
	}
	step := o.stepper(start)
	step("1/6 reading the old cluster")
	if err := o.controlData(ctx, p); err != nil {
		return Result{}, err
	}
	if err := o.inspect(ctx, p); err != nil {
		return Result{}, err
	}
	if err := missingExtensions(p); err != nil {
		return Result{}, err
	}
	o.Log.Info("upgrade: old cluster", zap.String("superuser", p.superuser), zap.String("encoding", p.encoding),
		zap.String("lc_collate", p.collate), zap.String("lc_ctype", p.ctype), zap.Bool("data_checksums", p.checksums),
		zap.Strings("databases", p.databases), zap.Int("extensions", len(p.exts)))

	st := State{Step: StepInitdb, From: from, To: o.to, Mode: mode, Started: start.UTC(), Databases: p.databases, Superuser: p.superuser}
	paths := pathsOf(o.PGData)
	if err := os.Mkdir(paths.dir, 0o700); err != nil {
		return Result{}, fmt.Errorf("create %s: %w", paths.dir, err)
	}
	// From here, a failure rolls back what was made.
	res, err := o.run2(ctx, p, &st, step)
	if err != nil && st.Rollbackable() {
		o.Log.Error("upgrade failed; rolling back to the old cluster", zap.Error(err))
		if rerr := o.rollback(st); rerr != nil {
			return Result{}, fmt.Errorf("%w; and the rollback failed: %v", err, rerr)
		}
		return Result{}, fmt.Errorf("%w; PGDATA holds the PostgreSQL %d cluster as before", err, from)
	}
	return res, err
}

// stepper logs each step with the time since the start.
func (o *Options) stepper(start time.Time) func(string) {
	return func(s string) {
		o.Log.Info("upgrade: "+s, zap.Duration("elapsed", o.Now().Sub(start).Round(time.Millisecond)))
	}
}

func (o *Options) run2(ctx context.Context, p *plan, st *State, step func(string)) (Result, error) {
	paths := pathsOf(o.PGData)
	set := func(s Step) error { st.Step = s; return writeState(o.PGData, *st) }
	if err := set(StepInitdb); err != nil {
		return Result{}, err
	}
	step("2/6 creating the new cluster (initdb)")
	if err := os.MkdirAll(paths.work(), 0o700); err != nil {
		return Result{}, err
	}
	if _, err := o.run(ctx, paths.work(), o.env(), nil, o.Bin.Initdb, initdbArgs(p, paths.newData())...); err != nil {
		return Result{}, err
	}
	if err := copyConfig(o.PGData, paths.newData()); err != nil {
		return Result{}, err
	}
	if err := o.checkNewConfig(ctx, p); err != nil {
		return Result{}, err
	}

	if err := set(StepCheck); err != nil {
		return Result{}, err
	}
	step("3/6 pg_upgrade --check")
	if err := o.pgUpgrade(ctx, p, st.Mode, true); err != nil {
		return Result{}, err
	}
	if err := set(StepUpgrade); err != nil {
		return Result{}, err
	}
	step("4/6 pg_upgrade")
	if err := o.pgUpgrade(ctx, p, st.Mode, false); err != nil {
		return Result{}, err
	}
	return o.forward(ctx, *st, step)
}

// checkSpace refuses copy mode when the file system cannot hold a second
// copy of the cluster.
func (o *Options) checkSpace() error {
	size, err := clusterSize(o.PGData)
	if err != nil {
		return fmt.Errorf("measure PGDATA: %w", err)
	}
	free, err := freeBytes(o.PGData)
	if err != nil {
		return nil // unknown: pg_upgrade reports a full disk itself
	}
	if need := size + size/10 + 64<<20; free < need {
		return fmt.Errorf("%s=copy needs about %d MB free beside the %d MB cluster, and the volume has %d MB: free space, or set %s=link "+
			"(no copy; the old cluster cannot be started again once the new one ran) or clone (on XFS or Btrfs); nothing was changed",
			EnvMode, need>>20, size>>20, free>>20, EnvMode)
	}
	return nil
}

// checkNewConfig makes the new server read the configuration carried over
// (postgres -C parses every file and refuses unknown or invalid settings)
// and checks that its shared_preload_libraries are installed, before
// pg_upgrade runs.
func (o *Options) checkNewConfig(ctx context.Context, p *plan) error {
	out, err := o.run(ctx, "/", o.env(), nil, o.Bin.Postgres, "-D", pathsOf(o.PGData).newData(), "-C", "shared_preload_libraries")
	if err != nil {
		return fmt.Errorf("PostgreSQL %d does not accept the old cluster's configuration (postgresql.conf, postgresql.auto.conf and their includes, "+
			"carried over as they are): change the setting named below in the old cluster first (e.g. with the old image), "+
			"or remove it: %w", p.to, err)
	}
	libdir := filepath.Join(filepath.Dir(o.Bin.Dir), "lib")
	var missing []string
	for _, name := range strings.Split(strings.TrimSpace(out), ",") {
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if name == "" || strings.Contains(name, "/") {
			continue
		}
		if !exists(filepath.Join(libdir, name)) && !exists(filepath.Join(libdir, name+".so")) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("shared_preload_libraries of the old cluster names %s, not installed for PostgreSQL %d in %s: install the package, or remove it from the setting",
			strings.Join(missing, ", "), p.to, libdir)
	}
	return nil
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// pgUpgrade runs pg_upgrade (with check: --check).
func (o *Options) pgUpgrade(ctx context.Context, p *plan, mode Mode, check bool) error {
	paths := pathsOf(o.PGData)
	hba, err := o.trustHBA()
	if err != nil {
		return err
	}
	opts := o.pgctlOptions(hba)
	args := []string{"--old-bindir=" + p.oldBin, "--new-bindir=" + o.Bin.Dir,
		"--old-datadir=" + o.PGData, "--new-datadir=" + paths.newData(),
		"--username=" + p.superuser, "--socketdir=" + o.SocketDir,
		"--old-port=" + strconv.Itoa(oldPort), "--new-port=" + strconv.Itoa(newPort),
		"--old-options=" + opts, "--new-options=" + opts,
		"--jobs=" + strconv.Itoa(o.Config.Jobs)}
	if check {
		args = append(args, "--check")
	}
	switch mode {
	case Link:
		args = append(args, "--link")
	case Clone:
		args = append(args, "--clone")
	}
	_, err = o.run(ctx, paths.work(), o.oldEnv(p, "LC_ALL=C"), o.Stdout, filepath.Join(o.Bin.Dir, "pg_upgrade"), args...)
	if err == nil {
		return nil
	}
	o.stopLeftovers()
	detail := pgUpgradeReports(paths.newData(), paths.work())
	what := "pg_upgrade"
	if check {
		what = "pg_upgrade --check"
	}
	if detail != "" {
		return fmt.Errorf("%s found problems:\n%s\n(%w)", what, detail, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// pgUpgradeReports collects the files in which pg_upgrade names what it
// refuses (loadable_libraries.txt lists the libraries missing from the new
// installation and the databases using them; others list tables with
// unsupported types, and so on), and its own log's end.
func pgUpgradeReports(newData, work string) string {
	var files []string
	for _, pat := range []string{
		filepath.Join(newData, "pg_upgrade_output.d", "*", "*.txt"),
		filepath.Join(work, "*.txt"),
		filepath.Join(newData, "pg_upgrade_output.d", "*", "log", "pg_upgrade_internal.log"),
		filepath.Join(work, "pg_upgrade_internal.log"),
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			continue
		}
		text := strings.TrimSpace(string(data))
		if strings.HasSuffix(f, ".log") {
			text = tail(text, 15)
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", filepath.Base(f), text)
	}
	return strings.TrimSpace(b.String())
}

// copyConfig carries the old cluster's configuration files (every regular
// *.conf file at PGDATA's top: postgresql.conf, postgresql.auto.conf with
// ALTER SYSTEM's settings, pg_hba.conf, pg_ident.conf, pgdock's managed
// files and the user's includes, and directories of *.conf files only, as
// an include_dir is) over initdb's.
func copyConfig(pgdata, newData string) error {
	entries, err := os.ReadDir(pgdata)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch {
		case e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".conf"):
			if err := copyFile(filepath.Join(pgdata, e.Name()), filepath.Join(newData, e.Name())); err != nil {
				return err
			}
		case e.IsDir() && confDir(filepath.Join(pgdata, e.Name())):
			// An include_dir (conf.d): a directory of *.conf files only.
			if err := os.MkdirAll(filepath.Join(newData, e.Name()), 0o700); err != nil {
				return err
			}
			files, _ := os.ReadDir(filepath.Join(pgdata, e.Name()))
			for _, f := range files {
				if err := copyFile(filepath.Join(pgdata, e.Name(), f.Name()), filepath.Join(newData, e.Name(), f.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// confDir reports whether dir holds regular *.conf files and nothing else.
func confDir(dir string) bool {
	files, err := os.ReadDir(dir)
	if err != nil || len(files) == 0 {
		return false
	}
	for _, f := range files {
		if !f.Type().IsRegular() || !strings.HasSuffix(f.Name(), ".conf") {
			return false
		}
	}
	return true
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("carry over %s: %w", src, err)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(src); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		return fmt.Errorf("carry over %s: %w", src, err)
	}
	return nil
}
