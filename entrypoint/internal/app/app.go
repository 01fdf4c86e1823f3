package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/args"
	"github.com/pgdock/pgdock/entrypoint/internal/cluster"
	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/earlysignal"
	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
	"github.com/pgdock/pgdock/entrypoint/internal/initscripts"
	"github.com/pgdock/pgdock/entrypoint/internal/logging"
	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/pgversion"
	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/entrypoint/internal/upgrade"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// Exit codes. A postgres that exits on its own passes its own code through
// (128+n when it was killed by signal n).
const (
	ExitOK    = 0 // a requested stop that completed cleanly; sleep mode stopped
	ExitError = 1 // invalid configuration, failed preparation or first boot, or a stop that had to escalate
)

// Options are the process's inputs.
type Options struct {
	Env     map[string]string // the process environment
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// ServerUser is the OS user a root start steps down to (default "postgres").
	ServerUser string
	// Signals, when set, delivers the stop and reload signals
	// (earlysignal.Channel), caught since before Main: as PID 1, a SIGTERM or SIGINT that arrives
	// before signal.Notify makes the Go runtime exit 2 instead of stopping
	// cleanly. Nil: serve subscribes itself.
	Signals <-chan os.Signal
}

// EnvMap turns os.Environ() into a map.
func EnvMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envList turns a map back into KEY=VALUE pairs, sorted for determinism.
func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Main runs the container entrypoint with argv (without the program name) and
// returns the process exit code. It only returns for commands it does not
// replace itself with.
func Main(argv []string, o Options) int {
	inv := args.Classify(argv)
	switch inv.Kind {
	case args.Exec, args.PostgresDirect:
		return execDirect(inv.Argv, o)
	}
	r, code := newRunner(o)
	if r == nil {
		return code
	}
	return r.serve(inv.ServerArgs)
}

// execDirect replaces the process with argv, printing nothing on stdout.
func execDirect(argv []string, o Options) int {
	path, err := exec.LookPath(argv[0])
	if err != nil && filepath.Base(argv[0]) == "postgres" {
		if bin, ferr := pgbin.Find(); ferr == nil {
			path, err = bin.Postgres, nil
		}
	}
	if err != nil {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint: %s: %v\n", argv[0], err)
		return 127
	}
	err = syscall.Exec(path, argv, envList(o.Env))
	fmt.Fprintf(o.Stderr, "pgdock-entrypoint: exec %s: %v\n", path, err)
	return 126
}

// runner holds one resolved run.
type runner struct {
	o   Options
	cfg config.Config
	log *zap.Logger
	bin pgbin.Bin
	// reaper starts every child and owns every wait (startReaper).
	reaper *reaper.Reaper
	// locks on PGDATA and the state directory, held for the process's life.
	locks []*fsutil.Lock
	// sockHome is the directory of pgdock's own sockets (socketHome).
	sockHome string
}

// startReaper starts the one reaper of the process. As PID 1, or as a child
// subreaper outside a container, it also reaps orphans. It starts after the
// preflight, which runs before any child of ours exists.
func (r *runner) startReaper() {
	if r.reaper != nil {
		return
	}
	if !reaper.Needed() {
		_ = reaper.BecomeSubreaper()
	}
	r.reaper, _ = reaper.Background(r.log) // runs until the process exits
}

// newRunner loads and validates the configuration. On failure it prints every
// problem and returns the exit code.
func newRunner(o Options) (*runner, int) {
	log := logging.New(logging.Options{Level: o.Env["LOG_LEVEL"], Format: o.Env["LOG_FORMAT"], Out: o.Stderr})
	cfg, err := config.Load(o.Env, nil) // nil: config.ReadSecretFile, which never blocks on a FIFO
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			log.Error(fmt.Sprintf("invalid configuration: %d problem(s); nothing was changed", len(ve.Problems)))
			for _, p := range ve.Problems {
				log.Error(p.String())
			}
		} else {
			log.Error("invalid configuration", zap.Error(err))
		}
		return nil, ExitError
	}
	if o.ServerUser == "" {
		o.ServerUser = "postgres"
	}
	if strings.TrimSpace(o.Env["PGDOCK_STATE_DIR"]) == "" {
		// The same rule the healthcheck follows: /run/pgdock when this uid
		// can use it, else a directory of its own (docker run --user).
		cfg.StateDir = state.ResolveDir("", os.Getuid())
	}
	return &runner{o: o, cfg: cfg, log: logging.New(logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, Out: o.Stderr})}, ExitOK
}

// stopSignals are the signals that end a run.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT}

func isStop(s os.Signal) bool {
	for _, x := range stopSignals {
		if s == x {
			return true
		}
	}
	return false
}

// serve is the server lifecycle.
func (r *runner) serve(serverArgs []string) int {
	sigs := r.o.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 8)
		signal.Notify(ch, earlysignal.Signals()...)
		defer signal.Stop(ch)
		sigs = ch
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if r.cfg.SleepMode {
		// Reap orphans also in sleep mode, where operators' docker exec
		// sessions leave them behind.
		r.startReaper()
		return r.sleep(sigs)
	}
	firstBoot, ok := r.check()
	if !ok {
		return ExitError
	}
	uc, ok := r.upgradeConfig()
	if !ok {
		return ExitError
	}
	r.startReaper()
	defer r.cleanupSocketHome()
	tls, err := r.prepare()
	if err != nil {
		r.log.Error("prepare", zap.Error(err))
		return ExitError
	}
	if upgrade.Pending(r.cfg.PGData, uc) && !r.upgrade(ctx, sigs, uc) {
		return ExitError
	}
	pl, err := r.startPlugins(ctx, r.pluginSocketDir())
	if err != nil {
		r.logProblems(err) // one log line per problem
		return ExitError
	}
	defer pl.stop() // plugins stop last, on every path
	run := &server{r: r, sigs: sigs, tls: tls, serverArgs: r.postgresArgs(serverArgs), plugins: pl}
	return run.lifecycle(ctx, firstBoot)
}

// postgresArgs are the arguments after -D: the legacy config file, then the user's.
func (r *runner) postgresArgs(user []string) []string {
	var a []string
	if r.cfg.ConfigFile != "" {
		a = append(a, "-c", "config_file="+r.cfg.ConfigFile)
	}
	a = append(a, user...)
	for i, arg := range a {
		if strings.HasPrefix(arg, "config_file=") || strings.HasPrefix(arg, "--config-file=") || strings.HasPrefix(arg, "--config_file=") || (arg == "-c" && i+1 < len(a) && strings.HasPrefix(a[i+1], "config_file=")) {
			r.log.Warn("a custom config_file is used: pgdock's managed settings (port, sockets, hba_file, POSTGRESQL_* variables, TLS, plugins) apply only if that file includes " +
				filepath.Join(r.cfg.PGData, "pgdock.conf"))
			break
		}
	}
	return a
}

// check finds PostgreSQL and runs the preflight, reporting any problem
// (the missing password with the official text). ok is false on a problem.
func (r *runner) check() (firstBoot, ok bool) {
	bin, err := pgbin.Find()
	if err != nil {
		r.log.Error(err.Error())
		return false, false
	}
	r.bin = bin
	firstBoot, err = r.preflight()
	if err != nil {
		if errors.Is(err, cluster.ErrMissingPassword) {
			fmt.Fprint(r.o.Stderr, cluster.MissingPasswordMessage())
		} else {
			r.logProblems(err)
		}
		return firstBoot, false
	}
	return firstBoot, true
}

// preflight decides whether this is a first boot and checks what must hold
// before anything on disk is touched.
func (r *runner) preflight() (firstBoot bool, err error) {
	// An older cluster with PGDOCK_UPGRADE=true (from != nil), or one in the
	// middle of an interrupted upgrade, is upgraded, finished or rolled
	// back after prepare (r.upgrade); the checks below apply as usual.
	if _, err := r.checkDataVersion(context.Background()); err != nil {
		var me *pgversion.MismatchError
		if !errors.As(err, &me) || !upgrade.Interrupted(r.cfg.PGData) {
			return false, err
		}
	}
	if _, err := upgrade.FromEnv(r.o.Env); err != nil {
		return false, err // PGDOCK_UPGRADE*: config validate reports them too
	}
	if errs := missingTLSFiles(r.cfg); len(errs) > 0 {
		return false, errors.Join(errs...)
	}
	if err := r.checkSettings(context.Background()); err != nil {
		return false, err
	}
	done, err := cluster.IsInitialised(r.cfg.PGData)
	if err != nil {
		return false, err
	}
	m, err := cluster.ReadMarker(r.cfg.PGData)
	if err != nil {
		return false, err
	}
	if m != nil && !m.Redoable() {
		return false, cluster.IncompleteError(r.cfg.PGData, *m)
	}
	if done && m == nil {
		// A PGDATA without the marker whose initdb did not finish is no database.
		return false, cluster.CheckComplete(r.cfg.PGData)
	}
	if m != nil {
		r.log.Warn("the previous first boot failed before any init script ran; initialising again", zap.String("step", m.Step))
	}
	if err := cluster.CheckFirstBootEnv(r.cfg.Password, r.cfg.HostAuthMethod); err != nil {
		return true, err
	}
	// Fail fast on an unreadable script directory, before initdb (as the official image does).
	if _, err := initscripts.List(r.cfg.InitDir); err != nil {
		return true, fmt.Errorf("PGDOCK_INITDB_DIR: %w", err)
	}
	return true, nil
}

// pluginSocketDir is where plugins put their sockets (the healthcheck reaches them there).
func (r *runner) pluginSocketDir() string { return filepath.Join(r.socketHome(), "plugins") }

// missingTLSFiles reports each configured TLS file that cannot be found.
func missingTLSFiles(c config.Config) []error {
	var errs []error
	for _, f := range []struct{ name, path string }{
		{"POSTGRESQL_TLS_CERT_FILE", c.TLS.CertFile},
		{"POSTGRESQL_TLS_KEY_FILE", c.TLS.KeyFile},
		{"POSTGRESQL_TLS_CA_FILE", c.TLS.CAFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", f.name, f.path, err))
		}
	}
	return errs
}

// workDir is the private directory used during bootstrap.
func (r *runner) workDir() string { return filepath.Join(r.socketHome(), "bootstrap") }

// tlsFiles are the paths the server reads its TLS files from.
type tlsFiles struct{ cert, key, ca string }

// prepare locks PGDATA and the state directory, creates what is missing,
// fixes ownership, copies TLS files where the server can read them, and, when
// root, drops to the server user. Nothing is written before the locks are
// held and no live postmaster was found. It changes the owner or mode only of
// PGDATA and the WAL directory (recursively, as the official image does), of
// directories it created itself, and of pgdock's own entries in the state
// directory: never of an existing socket or state directory such as /tmp.
func (r *runner) prepare() (tlsFiles, error) {
	c := r.cfg
	tls := tlsFiles{cert: c.TLS.CertFile, key: c.TLS.KeyFile, ca: c.TLS.CAFile}
	r.startReaper()
	if err := r.lock(); err != nil {
		return tls, err
	}
	// Official semantics: chmod failures on PGDATA are ignored (some bind
	// mounts refuse it); a symlinked PGDATA is followed.
	_ = os.Chmod(c.PGData, 0o700)
	var created []string // directories made here: ours to chown
	if c.InitdbWaldir != "" {
		if err := privilege.EnsureDir(c.InitdbWaldir, 0o700, false); err != nil {
			return tls, err
		}
	}
	for _, d := range c.SocketDirs {
		made, err := privilege.MakeDir(d, 0o3775)
		if err != nil {
			return tls, fmt.Errorf("POSTGRESQL_UNIX_SOCKET_DIRECTORIES: %w", err)
		}
		if made {
			created = append(created, d)
		}
	}
	if os.Getuid() != 0 {
		return tls, r.checkUsable()
	}
	id, err := privilege.Lookup(r.o.ServerUser)
	if err != nil {
		return tls, err
	}
	if c.TLS.CertFile != "" {
		if tls, err = copyTLS(c, filepath.Join(c.StateDir, "tls"), id); err != nil {
			return tls, err
		}
	}
	roots := []string{c.PGData, c.InitdbWaldir}
	for _, name := range stateEntries {
		roots = append(roots, filepath.Join(c.StateDir, name))
	}
	n, err := privilege.FixOwnership(id.UID, id.GID, roots...)
	if err != nil {
		return tls, err
	}
	if err := privilege.ChownDirs(id.UID, id.GID, created...); err != nil {
		return tls, err
	}
	if n > 0 {
		r.log.Debug("fixed ownership", zap.Int("entries", n), zap.String("user", id.Name))
	}
	if err := privilege.Drop(id); err != nil {
		return tls, err
	}
	r.log.Debug("dropped privileges", zap.String("user", id.Name), zap.Int("uid", id.UID), zap.Int("gid", id.GID))
	return tls, r.checkUsable()
}

// stateEntries are pgdock's own entries in the state directory (ownership
// is fixed inside them only, never in the directory at large).
var stateEntries = []string{"bootstrap", "plugins", "tls", "files", state.FileName}

// ErrInUse is returned when another entrypoint or a live postmaster uses PGDATA.
var ErrInUse = errors.New("in use")

// lock creates PGDATA and the state directory when missing and takes the
// exclusive locks on both, then refuses a PGDATA on which a postmaster still
// runs (an orphaned one, whose entrypoint died).
func (r *runner) lock() error {
	c := r.cfg
	if c.StateDir == state.FallbackDir(os.Getuid()) {
		// A directory under the shared /tmp must be this uid's own.
		if fi, err := os.Lstat(c.StateDir); err == nil {
			st, _ := fi.Sys().(*syscall.Stat_t)
			if !fi.IsDir() || st == nil || int(st.Uid) != os.Getuid() {
				return fmt.Errorf("PGDOCK_STATE_DIR: %s (the state directory for uid %d, which cannot use %s) exists but is not a directory owned by that uid; remove it or set PGDOCK_STATE_DIR",
					c.StateDir, os.Getuid(), state.DefaultDir)
			}
		}
	}
	var createdState bool
	for _, d := range []struct {
		v, path string
		mode    os.FileMode
	}{{"PGDATA", c.PGData, 0o700}, {"PGDOCK_STATE_DIR", c.StateDir, 0o750}} {
		made, err := privilege.MakeDir(d.path, d.mode)
		if err != nil {
			return fmt.Errorf("%s: %w", d.v, err)
		}
		if d.v == "PGDOCK_STATE_DIR" {
			createdState = made
		}
		l, err := fsutil.LockDir(d.path)
		if errors.Is(err, fsutil.ErrLocked) {
			return fmt.Errorf("%s=%s is %w by another pgdock entrypoint (a second container on the same volume, or one still running); "+
				"this one exits without changing anything", d.v, d.path, ErrInUse)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", d.v, err)
		}
		r.locks = append(r.locks, l)
	}
	if pid := pidfile.LivePostmaster(c.PGData); pid > 0 {
		return fmt.Errorf("PGDATA=%s is %w: a PostgreSQL server (pid %d) is still running on it, without the entrypoint that started it; "+
			"stop that server first (kill -INT %d); this entrypoint exits without changing anything", c.PGData, ErrInUse, pid, pid)
	}
	// A state directory pgdock created is its own; an existing one keeps
	// its owner and mode.
	if createdState && os.Getuid() == 0 {
		id, err := privilege.Lookup(r.o.ServerUser)
		if err != nil {
			return err
		}
		if err := privilege.ChownDirs(id.UID, id.GID, c.StateDir); err != nil {
			return err
		}
	}
	return nil
}

// checkUsable makes sure the server's user can create files in the state
// and socket directories, which pgdock does not change when they existed.
func (r *runner) checkUsable() error {
	dirs := []struct{ v, path string }{{"PGDOCK_STATE_DIR", r.cfg.StateDir}}
	for _, d := range r.cfg.SocketDirs {
		dirs = append(dirs, struct{ v, path string }{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", d})
	}
	for _, d := range dirs {
		if err := syscall.Access(d.path, 0o3); err != nil { // W_OK|X_OK
			return fmt.Errorf("%s: uid %d cannot create files in %s (%v); pgdock does not change the owner or mode of a directory it did not create: "+
				"make it writable for that user, or choose another directory", d.v, os.Getuid(), d.path, err)
		}
	}
	return nil
}

// copyTLS copies the certificate files (readable only by root, typically
// secrets) to a directory of the server user's: key 0600, others 0644.
func copyTLS(c config.Config, dir string, id privilege.Identity) (tlsFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tlsFiles{}, err
	}
	var out tlsFiles
	for _, f := range []struct {
		src  string
		name string
		mode os.FileMode
		dst  *string
	}{{c.TLS.CertFile, "server.crt", 0o644, &out.cert}, {c.TLS.KeyFile, "server.key", 0o600, &out.key}, {c.TLS.CAFile, "ca.crt", 0o644, &out.ca}} {
		if f.src == "" {
			continue
		}
		data, err := os.ReadFile(f.src)
		if err != nil {
			return out, fmt.Errorf("read TLS file: %w", err)
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, data, f.mode); err != nil {
			return out, err
		}
		if err := os.Chmod(p, f.mode); err != nil {
			return out, err
		}
		*f.dst = p
	}
	if _, err := privilege.FixOwnership(id.UID, id.GID, dir); err != nil {
		return out, err
	}
	return out, nil
}

// sleep is maintenance mode: nothing is started or changed; a stop signal
// ends it at once.
func (r *runner) sleep(sigs <-chan os.Signal) int {
	r.log.Info("sleep mode: PostgreSQL is not started; stop the container or unset SLEEP_MODE to leave it",
		zap.String("pgdata", r.cfg.PGData))
	st := newStateWriter(r.cfg, r.log, "sleep")
	st.write(phaseSleeping, 0, nil)
	for s := range sigs {
		if isStop(s) {
			r.log.Info("sleep mode: stop requested", zap.String("signal", s.String()))
			st.write(phaseStopped, 0, nil)
			return ExitOK
		}
		r.log.Info("sleep mode: nothing to reload", zap.String("signal", s.String()))
	}
	return ExitOK
}

func since(t time.Time) zap.Field { return zap.Duration("took", time.Since(t).Round(time.Millisecond)) }

// upgradeConfig reads the PGDOCK_UPGRADE* variables; a bad value is
// reported, before anything is changed, like every configuration problem.
func (r *runner) upgradeConfig() (upgrade.Config, bool) {
	uc, err := upgrade.FromEnv(r.o.Env)
	if err != nil {
		r.log.Error("invalid configuration: " + err.Error() + "; nothing was changed")
		return uc, false
	}
	return uc, true
}

// upgrade runs pg_upgrade when asked (PGDOCK_UPGRADE) and finishes or
// rolls back an upgrade a crash interrupted (upgrade.Run), after prepare
// (locks held, running as the server's user) and before plugins start. A
// stop signal interrupts it.
func (r *runner) upgrade(ctx context.Context, sigs <-chan os.Signal, uc upgrade.Config) bool {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				if isStop(s) {
					r.log.Warn("stop requested during the upgrade: interrupting it", zap.String("signal", s.String()))
					cancel()
				}
			case <-done:
				return
			}
		}
	}()
	_, err := upgrade.Run(ctx, upgrade.Options{
		PGData: r.cfg.PGData, Bin: r.bin, Config: uc, User: r.cfg.User,
		SocketDir: filepath.Join(r.socketHome(), "upgrade"), Env: serverEnv(r.cfg.Env),
		Reaper: r.reaper, Log: r.log, Stdout: r.o.Stdout, StopBudget: r.cfg.Timeout,
	})
	if err != nil {
		r.logProblems(err)
		return false
	}
	return true
}

// Upgrade is `pgdock-entrypoint upgrade`: the upgrade step of a start
// (upgrade.Run with PGDOCK_UPGRADE=true), then exit without starting the
// server.
func Upgrade(o Options) int {
	env := make(map[string]string, len(o.Env)+1)
	for k, v := range o.Env {
		env[k] = v
	}
	env[upgrade.EnvUpgrade] = "true"
	o.Env = env
	r, code := newRunner(o)
	if r == nil {
		return code
	}
	uc, ok := r.upgradeConfig()
	if !ok {
		return ExitError
	}
	if _, ok := r.check(); !ok {
		return ExitError
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	defer r.cleanupSocketHome()
	if _, err := r.prepare(); err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	if !r.upgrade(context.Background(), sigs, uc) {
		return ExitError
	}
	return ExitOK
}
