package check

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/healthcheck/internal/disk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// Defaults.
const (
	DefaultStateDir        = state.DefaultDir
	DefaultTimeout         = 5 * time.Second
	DefaultPGData          = "/var/lib/postgresql/data"
	DefaultPatroniRESTPort = 8008
	// Database is the database named in the startup packet: always the
	// maintenance database, never POSTGRES_DB (clients use that one as a
	// CREATE DATABASE template, and the ping never reaches it anyway).
	Database = "postgres"
	// ApplicationName is sent in the startup packet, like pg_isready's.
	ApplicationName = "pgdock-healthcheck"
)

// Environment variables read by FromEnv.
const (
	EnvStateDir        = "PGDOCK_STATE_DIR"
	EnvTimeout         = "PGDOCK_HEALTHCHECK_TIMEOUT"
	EnvDiskMinFreePct  = "PGDOCK_HEALTHCHECK_DISK_MIN_FREE_PERCENT"
	EnvDiskMinFreeMB   = "PGDOCK_HEALTHCHECK_DISK_MIN_FREE_MB"
	EnvPatroniRESTPort = "PATRONI_REST_PORT"
	EnvPGData          = "PGDATA"
)

// patroniHealthPathFmt is Patroni's REST health endpoint on loopback.
const patroniHealthPathFmt = "http://127.0.0.1:%d/health"

// Config is what the checks need besides the state file.
type Config struct {
	// StateDir holds the entrypoint's state.json.
	StateDir string
	// Timeout bounds one whole run.
	Timeout time.Duration
	// Host overrides where PostgreSQL is pinged: empty means the state
	// file's socket directory (TCP 127.0.0.1 if it names none); a value
	// starting with "/" is a socket directory; anything else a TCP host.
	Host string
	// PGData, when set, overrides the state file's data directory.
	PGData string
	// DefaultPGData is used when neither PGData nor the state file has one.
	DefaultPGData string
	// Disk are the free-space floors of the disk check.
	Disk disk.Thresholds
	// PatroniURL is Patroni's REST health endpoint.
	PatroniURL string
	// MaxLag, when above 0, makes the replica check fail for a replica
	// more than this many bytes of WAL behind its leader, or whose lag is
	// unknown (Patroni's lag, as GET /replica?lag= uses it).
	MaxLag int64
	// Strict fails a degraded report (a plugin healthy but asking for
	// attention) instead of passing it with the word DEGRADED.
	Strict bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		StateDir:      DefaultStateDir,
		Timeout:       DefaultTimeout,
		DefaultPGData: DefaultPGData,
		Disk:          disk.DefaultThresholds(),
		PatroniURL:    fmt.Sprintf(patroniHealthPathFmt, DefaultPatroniRESTPort),
	}
}

// FromEnv returns the defaults overridden by the environment, read through
// getenv. It reports every bad variable at once. Without PGDOCK_STATE_DIR the
// state directory follows the entrypoint's rule (state.ResolveDir) for this
// process's uid: /run/pgdock when usable, else /tmp/pgdock-<uid>.
func FromEnv(getenv func(string) string) (Config, error) {
	return fromEnv(getenv, os.Geteuid())
}

func fromEnv(getenv func(string) string, uid int) (Config, error) {
	c := DefaultConfig()
	var errs []error
	c.StateDir = state.ResolveDir(getenv(EnvStateDir), uid)
	if v := getenv(EnvPGData); v != "" {
		c.DefaultPGData = v
	}
	if v := getenv(EnvTimeout); v != "" {
		d, err := ParseTimeout(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvTimeout, v, err))
		}
		c.Timeout = d
	}
	if v := getenv(EnvDiskMinFreePct); v != "" {
		f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a percentage from 0 to 100", EnvDiskMinFreePct, v))
		}
		c.Disk.MinFreePercent = f
	}
	if v := getenv(EnvDiskMinFreeMB); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number of MB (MiB)", EnvDiskMinFreeMB, v))
		}
		c.Disk.MinFreeBytes = n * disk.MiB
	}
	if v := getenv(EnvPatroniRESTPort); v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q: want a port from 1 to 65535", EnvPatroniRESTPort, v))
		} else {
			c.PatroniURL = fmt.Sprintf(patroniHealthPathFmt, port)
		}
	}
	return c, errors.Join(errs...)
}

// ParseTimeout accepts a Go duration ("5s", "1500ms") or plain seconds ("5").
func ParseTimeout(v string) (time.Duration, error) {
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 5s or 1500ms: %w", err)
	}
	return d, nil
}

// Validate reports every invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state directory is empty"))
	}
	if c.MaxLag < 0 {
		errs = append(errs, fmt.Errorf("max-lag %d: want 0 (off) or more", c.MaxLag))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout %s: want more than 0", c.Timeout))
	}
	if err := c.Disk.Validate(); err != nil {
		errs = append(errs, err)
	}
	if strings.IndexByte(c.Host, 0) >= 0 {
		errs = append(errs, errors.New("host contains a NUL byte"))
	}
	if u, err := url.Parse(c.PatroniURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("patroni URL %q: want http(s)://host:port/path", c.PatroniURL))
	}
	return errors.Join(errs...)
}
