// Command pgdock-healthcheck is the container's HEALTHCHECK: it prints one
// line and exits 0 when the asked check passes, 1 otherwise — never 2, which
// Docker reserves. See docs/operations.md, section "Healthcheck".
package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/healthcheck/internal/check"
	"github.com/pgdock/pgdock/healthcheck/internal/disk"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Getenv, newProber()))
}

// Output formats.
const (
	formatText = "text"
	formatJSON = "json"
)

// run executes the command line and returns the exit code: 0 or 1, also on
// bad arguments and panics.
func run(args []string, stdout io.Writer, getenv func(string) string, prober check.PluginProber) (code int) {
	format := formatText
	if wantsJSON(args) {
		format = formatJSON // until flags are parsed, so early failures match
	}
	defer func() {
		if v := recover(); v != nil {
			writeReport(stdout, format, check.Report{Check: "pgdock-healthcheck", Message: fmt.Sprintf("internal error: %v", v)})
			code = 1
		}
	}()

	cfg, envErr := check.FromEnv(getenv)
	diskMB := cfg.Disk.MinFreeBytes / disk.MiB
	var rep *check.Report
	runCheck := func(name check.Name) error {
		if format != formatText && format != formatJSON {
			return fmt.Errorf("--format %q: want text or json", format)
		}
		if envErr != nil {
			return fmt.Errorf("environment: %w", envErr)
		}
		if diskMB > math.MaxUint64/disk.MiB {
			return fmt.Errorf("--disk-min-free-mb %d: too large", diskMB)
		}
		cfg.Disk.MinFreeBytes = diskMB * disk.MiB
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		r := check.Runner{Config: cfg, Prober: prober}.Run(context.Background(), name)
		rep = &r
		return nil
	}

	root := &cobra.Command{
		Use:   "pgdock-healthcheck [check]",
		Short: "Health checks for a pgdock PostgreSQL container",
		Long: "Runs one check, prints one line and exits 0 when healthy, 1 otherwise (never 2).\n" +
			"Without a check it runs readiness.",
		Version:           version,
		Args:              rootArgs,
		RunE:              func(*cobra.Command, []string) error { return runCheck(check.Readiness) },
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fmt.Errorf("%w (see --help)", err) })
	root.SetOut(stdout)
	root.SetErr(stdout)
	root.SetArgs(args)

	f := root.PersistentFlags()
	f.StringVar(&cfg.StateDir, "state-dir", cfg.StateDir, "entrypoint state directory (env "+check.EnvStateDir+")")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "time limit of the whole check (env "+check.EnvTimeout+")")
	f.StringVar(&format, "format", format, "output: text (one line) or json (one JSON object)")
	f.StringVar(&cfg.Host, "host", "", "ping PostgreSQL here: a socket directory (/…) or a TCP host (default: the state file's socket directory)")
	f.StringVar(&cfg.PGData, "pgdata", "", "data directory for disk and process (default: from the state file, then $PGDATA)")
	f.Float64Var(&cfg.Disk.MinFreePercent, "disk-min-free-percent", cfg.Disk.MinFreePercent, "disk fails below this free percentage, 0 disables (env "+check.EnvDiskMinFreePct+")")
	f.Uint64Var(&diskMB, "disk-min-free-mb", diskMB, "disk fails below this many free MiB, 0 disables (env "+check.EnvDiskMinFreeMB+")")
	f.Int64Var(&cfg.MaxLag, "max-lag", 0, "replica: fail when the node is more than this many bytes of WAL behind its leader, or its lag is unknown (Patroni's lag; 0: off)")
	f.BoolVar(&cfg.Strict, "strict", false, "fail (exit 1) when a plugin reports itself degraded (a stale backup, failing WAL archiving); without it such a node passes and the line starts with DEGRADED")
	f.StringVar(&cfg.PatroniURL, "patroni-url", cfg.PatroniURL, "Patroni REST health URL (port from env "+check.EnvPatroniRESTPort+")")

	// Versions print as pgdock-entrypoint's do: "<program> <version>", from
	// `version` and --version alike.
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), root.Name(), version)
			return err
		},
	})
	for _, name := range check.Names() {
		root.AddCommand(&cobra.Command{
			Use:   string(name),
			Short: name.Describe(),
			Args:  noArgs,
			RunE:  func(*cobra.Command, []string) error { return runCheck(name) },
		})
	}

	if err := root.Execute(); err != nil {
		writeReport(stdout, format, check.Report{Check: "pgdock-healthcheck", Message: err.Error()})
		return 1
	}
	if rep == nil { // --help, --version
		return 0
	}
	writeReport(stdout, format, *rep)
	return rep.ExitCode()
}

// rootArgs accepts no argument; an argument that is not a check's name
// (checks are subcommands) is reported with the list of checks.
func rootArgs(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if _, err := check.ParseName(args[0]); err != nil {
		return err
	}
	return fmt.Errorf("unexpected arguments %q", args)
}

// noArgs refuses arguments after a check's name.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", cmd.Name(), args)
	}
	return nil
}

// wantsJSON spots --format json before flags are parsed.
func wantsJSON(args []string) bool {
	for i, a := range args {
		if a == "--format=json" || (a == "--format" && i+1 < len(args) && args[i+1] == formatJSON) {
			return true
		}
	}
	return false
}

func writeReport(w io.Writer, format string, rep check.Report) {
	line := rep.Text()
	if format == formatJSON {
		line = rep.JSON()
	}
	_, _ = fmt.Fprintln(w, line) // nowhere to report a failed write; the exit code still tells
}
