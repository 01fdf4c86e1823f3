// Command pgdock-plugins is the multi-call binary of pgdock's in-tree
// plugins. Installed (hard-linked) as pgdock-plugin-<name>, it serves that
// plugin to pgdock-entrypoint. Run as pgdock-plugins, `list` prints the
// built-in names one per line (the image build uses it), `version` the
// version.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgdock/pgdock/plugins/bundle"
)

var version = "dev"

func main() {
	if strings.HasPrefix(filepath.Base(os.Args[0]), bundle.BinaryPrefix) {
		p, err := bundle.Lookup(os.Args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgdock-plugins:", err)
			os.Exit(1)
		}
		p.Main()
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	switch {
	case len(args) == 1 && args[0] == "list":
		for _, n := range bundle.Names() {
			fmt.Println(n)
		}
		return 0
	case len(args) == 1 && args[0] == "version":
		fmt.Println("pgdock-plugins", version)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "usage: pgdock-plugins list | version\n"+
			"Installed as %s<name> (one of: %s), it serves that plugin to pgdock-entrypoint.\n",
			bundle.BinaryPrefix, strings.Join(bundle.Names(), ", "))
		return 2
	}
}
