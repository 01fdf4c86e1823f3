package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Config is what the command line sets.
type Config struct {
	BinDir     string        // bin/ of `make build`
	WorkDir    string        // where the run's temporary directory is made; "" = os.TempDir()
	Runs       int           // first boots per side; other counts derive from it
	HealthRuns int           // healthcheck and pg_isready invocations, each
	Settle     time.Duration // idle time after ready, before RSS and stop
	Load       time.Duration // pgbench load time before SIGTERM
	Progress   io.Writer     // progress lines; nil discards them

	Suites      []string // which suites run: SuiteDirect, SuitePatroni, SuiteBackup; empty = all
	PatroniRuns int      // three-node clusters formed per Patroni timing (defaults, tuned)
	KeepLogs    string   // where the logs of a failed cluster run are copied; "" = nowhere
	Backup      BackupConfig
}

// Suites of measures (the -suites flag).
const (
	SuiteDirect  = "direct"     // first boot, restart, stops, RSS, healthcheck, plugins
	SuitePatroni = "patroni"    // three-node cluster, failovers, lost writes
	SuiteBackup  = "pgbackrest" // full backup and restore vs pg_basebackup
)

// AllSuites are the suites in the order they run.
var AllSuites = []string{SuiteDirect, SuitePatroni, SuiteBackup}

// runs reports whether suite is selected.
func (c Config) runs(suite string) bool {
	return len(c.Suites) == 0 || slices.Contains(c.Suites, suite)
}

// Defaults of Config.
const (
	DefaultRuns        = 10
	DefaultHealthRuns  = 200
	DefaultSettle      = 300 * time.Millisecond
	DefaultLoad        = time.Second
	DefaultPatroniRuns = 2
	serverUser         = "postgres"
	listenAddr         = "127.0.0.1"
	loadClients        = 4
	loadThreads        = 2
	loadScale          = 1
	readyTimeout       = 2 * time.Minute
	stopTimeout        = time.Minute
	maxTopLen          = 40 // keeps plugin and PostgreSQL socket paths short enough
)

func (c Config) settings() Settings {
	return Settings{
		Runs: c.Runs, RestartRuns: 2 * c.Runs, LoadRuns: c.Runs, SleepRuns: 3 * c.Runs, PluginRuns: 3 * c.Runs,
		HealthRuns: c.HealthRuns, SettleMs: ms(c.Settle), LoadMs: ms(c.Load),
		LoadClients: loadClients, LoadScale: loadScale, ListenAddr: listenAddr,
		PgbenchFlags: fmt.Sprintf("-n -S -c %d -j %d (unix socket)", loadClients, loadThreads),
		Suites:       c.Suites, PatroniRuns: c.PatroniRuns,
		BackupScale: c.Backup.Scale, BackupRuns: c.Backup.Runs, BackupProcessMax: c.Backup.ProcessMax, BackupCompress: c.Backup.Compress,
	}
}

// rig is one run's shared context: binaries, the server user, the
// temporary directory everything lives in.
type rig struct {
	cfg         Config
	pg          pgBin
	pgIsReady   string
	pgbench     string
	entrypoint  string
	healthcheck string
	pluginDir   string
	owner       *identity // the server user; nil when not running as root
	top         string
	baseEnv     []string
	seq         int
}

func newRig(cfg Config) (*rig, error) {
	bin, err := filepath.Abs(cfg.BinDir)
	if err != nil {
		return nil, fmt.Errorf("bin directory: %w", err)
	}
	r := &rig{
		cfg:         cfg,
		entrypoint:  filepath.Join(bin, "pgdock-entrypoint"),
		healthcheck: filepath.Join(bin, "pgdock-healthcheck"),
		pluginDir:   filepath.Join(bin, "plugins"),
	}
	for _, p := range []string{r.entrypoint, r.healthcheck} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w (run `make build` first)", err)
		}
	}
	if r.pg, err = findPostgreSQL(); err != nil {
		return nil, fmt.Errorf("find PostgreSQL: %w", err)
	}
	r.pgIsReady = filepath.Join(r.pg.Dir, "pg_isready")
	r.pgbench = filepath.Join(r.pg.Dir, "pgbench")
	for _, p := range []string{r.pgIsReady, r.pgbench} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("find PostgreSQL tools: %w", err)
		}
	}
	if os.Getuid() == 0 {
		id, err := lookupUser(serverUser)
		if err != nil {
			return nil, fmt.Errorf("server user: %w", err)
		}
		r.owner = &id
	}
	r.baseEnv = baseEnv(os.Getenv)
	base := cfg.WorkDir
	if base == "" {
		base = os.TempDir()
	}
	top, err := os.MkdirTemp(base, "pgdock-bench-")
	if err != nil {
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	if r.top, err = filepath.EvalSymlinks(top); err != nil {
		os.RemoveAll(top)
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	if err := os.Chmod(r.top, 0o755); err != nil {
		os.RemoveAll(r.top)
		return nil, fmt.Errorf("create work directory: %w", err)
	}
	if len(r.top) > maxTopLen {
		os.RemoveAll(r.top)
		return nil, fmt.Errorf("work directory %s is longer than %d characters; socket paths would not fit (use -dir /tmp)", r.top, maxTopLen)
	}
	return r, nil
}

// close ends whatever is still running under the work directory and removes it.
func (r *rig) close() error {
	if left := sweep(r.top, nil, 5*time.Second); len(left) > 0 {
		r.progress("cleanup: ended %d leftover process(es): %s", len(left), joinInts(left))
	}
	if err := os.RemoveAll(r.top); err != nil {
		return fmt.Errorf("remove work directory: %w", err)
	}
	return nil
}

// nextName numbers sandboxes: short, unique, in creation order.
func (r *rig) nextName(name string) string {
	r.seq++
	return fmt.Sprintf("%02d-%s", r.seq, name)
}

func (r *rig) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "[bench %s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

// chown gives path to the server user (when running as root).
func (r *rig) chown(path string) error {
	if r.owner == nil {
		return nil
	}
	if err := os.Chown(path, r.owner.UID, r.owner.GID); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

// cred runs a bare PostgreSQL command as the server user, as the
// entrypoint does after it drops privileges.
func (r *rig) cred() *syscall.Credential {
	if r.owner == nil {
		return nil
	}
	c := &syscall.Credential{Uid: uint32(r.owner.UID), Gid: uint32(r.owner.GID)}
	for _, g := range r.owner.Groups {
		c.Groups = append(c.Groups, uint32(g))
	}
	return c
}

// baseEnv is the environment every side gets: the same few variables, so
// that initdb picks the same locale and time zone on both sides.
func baseEnv(getenv func(string) string) []string {
	env := []string{}
	for _, k := range []string{"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	if getenv("PATH") == "" {
		env = append(env, "PATH=/usr/local/bin:/usr/bin:/bin")
	}
	return env
}

// entrypointEnv is the environment of one entrypoint run in sb.
func (r *rig) entrypointEnv(sb *sandbox, extra map[string]string) []string {
	m := map[string]string{
		"PGDATA":                             sb.data,
		"PGPORT":                             strconv.Itoa(sb.port),
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": sb.sock,
		"POSTGRESQL_LISTEN_ADDRESSES":        listenAddr,
		"PGDOCK_STATE_DIR":                   sb.state,
		"PGDOCK_INITDB_DIR":                  sb.initDir,
		"PGCONFIG":                           sb.conf,
		"PGDOCK_PLUGIN_DIR":                  r.pluginDir,
		"POSTGRES_PASSWORD":                  sb.password,
	}
	for k, v := range extra {
		m[k] = v
	}
	env := append([]string(nil), r.baseEnv...)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+m[k])
	}
	return env
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
