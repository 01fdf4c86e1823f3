// Command testrig runs pgdock's compose stacks in real containers and checks
// them; see docs/testrig.md.
package main

import (
	"os"

	"github.com/pgdock/pgdock/testrig/internal/cli"
)

var version = "dev"

func main() {
	os.Exit(cli.Main(os.Args[1:], version, os.Stdout, os.Stderr))
}
