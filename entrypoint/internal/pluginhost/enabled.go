package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// KnownPlugins are the plugins built from this repository. Their
// <NAME>_ENABLE variables are honoured even when the binary is missing, so
// that "enabled but absent" is an error rather than silence.
func KnownPlugins() []string {
	return []string{"citus", "example", "patroni", "pg-stat-monitor", "pgbackrest"}
}

var validName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// envName returns <NAME>_<suffix> for a plugin name ("pg-stat-monitor",
// "ENABLE" → "PG_STAT_MONITOR_ENABLE").
func envName(plugin, suffix string) string { return sdk.EnvPrefix(plugin) + suffix }

// BinaryPath returns the path of a plugin's binary in dir.
func BinaryPath(dir, name string) string { return filepath.Join(dir, BinaryPrefix+name) }

// Enabled returns, sorted, the names of the plugins whose <NAME>_ENABLE is
// true in env. Candidates are the binaries pgdock-plugin-<name> in dir plus
// KnownPlugins; NAME is the name upper cased with '-' replaced by '_'.
// Booleans follow the contract's rule, sdk.ParseBool (true/false/1/0/yes/no/
// on/off in any case); every bad value is reported. A missing dir only means no binaries; legacy aliases
// (USE_PATRONI, BACKUP_ENABLED) are mapped by the config package before.
func Enabled(dir string, env map[string]string) ([]string, error) {
	candidates := KnownPlugins()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read plugin directory %s (PGDOCK_PLUGIN_DIR): %w", dir, err)
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), BinaryPrefix)
		if ok && !e.IsDir() && validName.MatchString(name) {
			candidates = append(candidates, name)
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)

	var enabled []string
	var errs []error
	for _, name := range candidates {
		v := envName(name, "ENABLE")
		raw, ok := env[v]
		if !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		on, err := sdk.ParseBool(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", v, raw, err))
			continue
		}
		if on {
			enabled = append(enabled, name)
		}
	}
	return enabled, errors.Join(errs...)
}
