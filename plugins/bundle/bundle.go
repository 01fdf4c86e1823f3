package bundle

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pgdock/pgdock/plugins/citus"
	"github.com/pgdock/pgdock/plugins/example"
	"github.com/pgdock/pgdock/plugins/patroni"
	"github.com/pgdock/pgdock/plugins/pgbackrest"
	"github.com/pgdock/pgdock/plugins/pgstatmonitor"
)

// BinaryPrefix is how pgdock-entrypoint names a plugin's binary:
// pgdock-plugin-<name>.
const BinaryPrefix = "pgdock-plugin-"

// Plugin is one plugin built into the bundle.
type Plugin struct {
	Name string // the plugin's name: <name> in pgdock-plugin-<name> and <NAME>_ENABLE
	Main func() // serves the plugin; does not return in normal operation
}

// Plugins returns the built-in plugins, sorted by name.
func Plugins() []Plugin {
	return []Plugin{
		{Name: citus.Name, Main: citus.Main},
		{Name: example.Name, Main: example.Main},
		{Name: patroni.Name, Main: patroni.Main},
		{Name: pgstatmonitor.Name, Main: pgstatmonitor.Main},
		{Name: pgbackrest.Name, Main: pgbackrest.Main},
	}
}

// Names returns the names of the built-in plugins, sorted.
func Names() []string {
	var names []string
	for _, p := range Plugins() {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	return names
}

// Lookup finds the plugin an invocation name (argv[0], any directory) asks
// for. The name must be exactly pgdock-plugin-<name> for a built-in plugin.
func Lookup(argv0 string) (Plugin, error) {
	base := filepath.Base(argv0)
	name, ok := strings.CutPrefix(base, BinaryPrefix)
	if !ok || name == "" {
		return Plugin{}, fmt.Errorf("invoked as %q: install this binary as %s<name> (one of %s), pgdock-entrypoint starts it under that name",
			base, BinaryPrefix, strings.Join(Names(), ", "))
	}
	for _, p := range Plugins() {
		if p.Name == name {
			return p, nil
		}
	}
	return Plugin{}, fmt.Errorf("invoked as %q: no plugin %q in this binary (built in: %s)", base, name, strings.Join(Names(), ", "))
}
