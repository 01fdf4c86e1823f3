package upgrade

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
)

// Mode is how pg_upgrade brings the data files into the new cluster.
type Mode string

const (
	// Copy copies every file: the old cluster is never written to, so it
	// can be started again until it is moved aside (and after, from where
	// it was moved). Needs as much free space as the cluster takes.
	Copy Mode = "copy"
	// Link hard-links the files: fast and no extra space, but once the new
	// server has started the old cluster must never be started again.
	Link Mode = "link"
	// Clone uses reflinks (copy-on-write: XFS, Btrfs): as fast as link and
	// as safe as copy, on file systems that have them.
	Clone Mode = "clone"
)

// Env variables this package reads.
const (
	EnvUpgrade   = "PGDOCK_UPGRADE"
	EnvMode      = "PGDOCK_UPGRADE_MODE"
	EnvOldBinDir = "PGDOCK_UPGRADE_OLD_BINDIR"
	EnvJobs      = "PGDOCK_UPGRADE_JOBS"
)

// Config is what the environment asks for.
type Config struct {
	// Requested: PGDOCK_UPGRADE=true. An upgrade that a crash interrupted
	// is finished or rolled back whatever it says.
	Requested bool
	// Mode: PGDOCK_UPGRADE_MODE, default copy.
	Mode Mode
	// OldBinDir: PGDOCK_UPGRADE_OLD_BINDIR, the old major's programs;
	// default /usr/lib/postgresql/<old>/bin.
	OldBinDir string
	// Jobs: PGDOCK_UPGRADE_JOBS, pg_upgrade --jobs (databases and
	// tablespaces handled in parallel); default the CPUs, at most 4.
	Jobs int
}

// Defaults returns the configuration with nothing asked for.
func Defaults() Config { return Config{Mode: Copy, Jobs: min(runtime.NumCPU(), 4)} }

// FromEnv reads the PGDOCK_UPGRADE* variables and validates them.
func FromEnv(env map[string]string) (Config, error) {
	c := Defaults()
	var probs []string
	if v := strings.TrimSpace(env[EnvUpgrade]); v != "" {
		b, err := config.ParseBool(v)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s=%q: %v", EnvUpgrade, v, err))
		}
		c.Requested = b
	}
	if v := strings.TrimSpace(env[EnvMode]); v != "" {
		c.Mode = Mode(strings.ToLower(v))
	}
	if v := strings.TrimSpace(env[EnvOldBinDir]); v != "" {
		c.OldBinDir = v
	}
	if v := strings.TrimSpace(env[EnvJobs]); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != v {
			probs = append(probs, fmt.Sprintf("%s=%q: must be a whole number from 1 to 64", EnvJobs, v))
		} else {
			c.Jobs = n
		}
	}
	if err := c.Validate(); err != nil {
		probs = append(probs, err.Error())
	}
	if len(probs) > 0 {
		return c, fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return c, nil
}

// Validate checks the values.
func (c Config) Validate() error {
	var probs []string
	switch c.Mode {
	case Copy, Link, Clone:
	default:
		probs = append(probs, fmt.Sprintf("%s=%q: must be copy, link or clone", EnvMode, string(c.Mode)))
	}
	if c.OldBinDir != "" && (!filepath.IsAbs(c.OldBinDir) || filepath.Clean(c.OldBinDir) != c.OldBinDir) {
		probs = append(probs, fmt.Sprintf("%s=%q: must be an absolute path without . or .. elements", EnvOldBinDir, c.OldBinDir))
	}
	if c.Jobs < 1 || c.Jobs > 64 {
		probs = append(probs, fmt.Sprintf("%s=%d: must be a whole number from 1 to 64", EnvJobs, c.Jobs))
	}
	if len(probs) > 0 {
		return fmt.Errorf("%s", strings.Join(probs, "; "))
	}
	return nil
}
