// Command pgdock-entrypoint is the container's ENTRYPOINT and PID 1.
//
// With no arguments, or postgres arguments, it runs the server lifecycle;
// `version`, `config validate`, `config render` and `init [--enforce]` are
// subcommands; any other command is exec'd unchanged (official image semantics).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	o := app.Options{Env: app.EnvMap(os.Environ()), Stdout: os.Stdout, Stderr: os.Stderr, Version: version}
	argv := os.Args[1:]
	if len(argv) > 0 && isSubcommand(argv[0]) {
		os.Exit(runCobra(argv, o))
	}
	os.Exit(app.Main(argv, o))
}

func isSubcommand(s string) bool {
	switch s {
	case "version", "config", "init":
		return true
	}
	return false
}

func runCobra(argv []string, o app.Options) int {
	code := 0
	root := &cobra.Command{
		Use:           "pgdock-entrypoint",
		Short:         "PostgreSQL container entrypoint",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(o.Stdout, "pgdock-entrypoint", o.Version) },
	})
	cfg := &cobra.Command{
		Use:   "config",
		Short: "inspect the configuration resolved from the environment",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("config needs a subcommand: validate or render")
		},
	}
	cfg.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "check the environment, print every problem, exit 1 on any",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { code = app.Validate(o) },
	}, &cobra.Command{
		Use:   "render",
		Short: "print the managed postgresql.conf include, pg_hba and preload list without starting anything",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { code = app.Render(o) },
	})
	var enforce bool
	initCmd := &cobra.Command{
		Use:   "init [-- postgres arguments]",
		Short: "initialise PGDATA if needed and exit without leaving a server running",
		Run:   func(_ *cobra.Command, args []string) { code = app.Init(o, args, enforce) },
	}
	initCmd.Flags().BoolVar(&enforce, "enforce", false, "fail when PGDATA is already initialised")
	root.AddCommand(cfg, initCmd)
	root.SetArgs(argv)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(o.Stderr, "pgdock-entrypoint:", err)
		return 2
	}
	return code
}
