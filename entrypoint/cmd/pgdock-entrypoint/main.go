// Command pgdock-entrypoint is the container's ENTRYPOINT and PID 1.
//
// With no arguments, or postgres arguments, it runs the server lifecycle;
// `version`, `config validate`, `config render`, `init [--enforce]`, `hook`, `backup`, `upgrade` and
// `help [subcommand]` are subcommands; any other command is exec'd unchanged,
// and --help, -V and --version are PostgreSQL's (official image semantics).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
	"github.com/pgdock/pgdock/entrypoint/internal/earlysignal"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	argv := os.Args[1:]
	// The lifecycle's signals were caught while the packages initialised
	// (earlysignal): as PID 1 a stop signal before that would be the Go
	// runtime's exit 2, not a clean stop. A subcommand gives them back.
	var sigs <-chan os.Signal
	if len(argv) == 0 || !isSubcommand(argv[0]) {
		sigs = earlysignal.Channel()
	} else {
		earlysignal.Release()
	}
	o := app.Options{Env: app.EnvMap(os.Environ()), Stdout: os.Stdout, Stderr: os.Stderr, Version: version, Signals: sigs}
	if sigs == nil {
		os.Exit(runCobra(argv, o))
	}
	os.Exit(app.Main(argv, o))
}

func isSubcommand(s string) bool {
	switch s {
	case "version", "config", "init", "help", "hook", "backup", "upgrade":
		return true
	}
	return false
}

func runCobra(argv []string, o app.Options) int {
	code := 0
	root := &cobra.Command{
		Use:               "pgdock-entrypoint",
		Short:             "PostgreSQL container entrypoint",
		Long:              rootHelp,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetUsageTemplate(usageTemplate)
	// -h and --help of the container mean PostgreSQL's (they never reach
	// here); inside a subcommand they still show its help, unlisted.
	root.PersistentFlags().BoolP("help", "h", false, "help for a subcommand")
	_ = root.PersistentFlags().MarkHidden("help")
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [subcommand]",
		Short: "describe pgdock's subcommands, or one of them",
		RunE: func(_ *cobra.Command, args []string) error {
			c, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("help: no subcommand %q; see pgdock-entrypoint help", strings.Join(args, " "))
			}
			return c.Help()
		},
	})
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(o.Stdout, "pgdock-entrypoint", o.Version) },
	})
	cfg := &cobra.Command{
		Use:   "config",
		Short: "inspect the configuration resolved from the environment",
		Long: "Inspect the configuration resolved from the environment, without starting or changing anything.\n" +
			"An unknown or missing subcommand is a usage error (exit 2).",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("config needs a subcommand: validate or render")
		},
	}
	cfg.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: "check the environment, print every problem, exit 1 on any",
		Long: "Run every check a start runs before it changes anything - the variables, PostgreSQL's own verdict on\n" +
			"the POSTGRESQL_* settings (postgres -C), TLS files, the password an empty PGDATA needs, the init script\n" +
			"directory - and the enabled plugins' (binary present, SHA256SUMS, their own validation). Prints every\n" +
			"problem; exits 1 wherever a start would refuse, 0 with \"configuration is valid\".",
		Args: cobra.NoArgs,
		Run:  func(*cobra.Command, []string) { code = app.Validate(o) },
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
		Long: "docker-ensure-initdb.sh: initialise an empty PGDATA (initdb, POSTGRES_DB, init scripts) and exit\n" +
			"without leaving a server running. With --enforce (docker-enforce-initdb.sh) an initialised PGDATA is\n" +
			"an error. Server options go after --: init -- -c shared_buffers=256MB.",
		Run: func(_ *cobra.Command, args []string) { code = app.Init(o, args, enforce) },
	}
	initCmd.Flags().BoolVar(&enforce, "enforce", false, "fail when PGDATA is already initialised")
	hook := &cobra.Command{
		Use:   "hook <request> [arguments]",
		Short: "call back into the running entrypoint (used by a mode provider's command)",
		Long: "Send a request to the running entrypoint over its hooks socket ($PGDOCK_HOOKS_SOCKET, else the one\n" +
			"the state file names) and exit 0 when it succeeded, 1 otherwise. Requests:\n" +
			"  post-bootstrap           run the first-boot steps (POSTGRES_DB, plugin bootstrap hooks, init scripts)\n" +
			"                           against the server a mode provider created; once per cluster, never on a\n" +
			"                           replica (Patroni's bootstrap.post_bootstrap; its connection string argument\n" +
			"                           is ignored)\n" +
			"  run-job <plugin> <job>   run a plugin's job now and wait for it",
		Args:               cobra.MinimumNArgs(1),
		DisableFlagParsing: true,
		Run:                func(_ *cobra.Command, args []string) { code = app.Hook(o, args[0], args[1:]) },
	}
	root.AddCommand(cfg, initCmd, hook, newBackupCmd(o, &code), newUpgradeCmd(o, &code))
	root.SetArgs(argv)
	root.SetOut(o.Stdout)
	root.SetErr(o.Stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(o.Stderr, "pgdock-entrypoint:", err)
		return 2
	}
	return code
}

// rootHelp is `pgdock-entrypoint help`: what pgdock adds to the official
// entrypoint, and where the rest is documented.
const rootHelp = `pgdock-entrypoint is the container's ENTRYPOINT and PID 1, a drop-in replacement for the
official postgres image's docker-entrypoint.sh that supervises PostgreSQL instead of exec'ing it.

Running:
  pgdock-entrypoint [postgres] [server options]  start PostgreSQL: validate the environment, initialise an
                                                 empty PGDATA, run it, stop it inside TIMEOUT on SIGTERM
  pgdock-entrypoint <program> [args]             run any other program unchanged (exec), as the official image
  pgdock-entrypoint --help | -V | --describe-config
                                                 PostgreSQL's own options (exec postgres), as the official image

Configuration is environment variables only: the official POSTGRES_* variables and their _FILE secrets,
POSTGRESQL_* settings (POSTGRESQL_CONFIG_<PARAMETER>), PG_HBA_ADD_<n>, POSTGRESQL_TLS_*,
POSTGRESQL_UNIX_SOCKET_DIRECTORIES, TIMEOUT, SHUTDOWN_MODE, SLEEP_MODE, LOG_LEVEL, LOG_FORMAT,
PGDOCK_* directories and <PLUGIN>_ENABLE. Every variable, its default and accepted values:
docs/configuration.md; modes, signals and exit codes: docs/modes.md; errors: docs/troubleshooting.md.`

// usageTemplate lists pgdock's subcommands without cobra's --help flag,
// which belongs to PostgreSQL here.
const usageTemplate = `{{if .HasAvailableSubCommands}}
pgdock subcommands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding}}  {{.Short}}{{end}}{{end}}
{{end}}{{if .Runnable}}
Usage:
  {{.UseLine}}
{{end}}{{if .HasAvailableLocalFlags}}
Flags:
{{.LocalFlags.FlagUsagesWrapped 100 | trimTrailingWhitespaces}}
{{end}}{{if .HasAvailableSubCommands}}
"pgdock-entrypoint help <subcommand>" describes one.
{{end}}`
