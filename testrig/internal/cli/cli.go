package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/progress"
	"github.com/pgdock/pgdock/testrig/internal/report"
	"github.com/pgdock/pgdock/testrig/internal/runner"
	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // a scenario failed, or the rig could not run
	ExitUsage  = 2
)

// RunConfig holds the flags of `testrig run`.
type RunConfig struct {
	JUnit    string
	Report   string
	Keep     bool
	Root     string
	LogLevel string
	Goals    string // "enforce" (default) or "report"
	// PG (--pg, else $PG_MAJORS): PostgreSQL majors, comma or space
	// separated ("13,15,17,18"); the direct-mode scenarios run once on each
	// major's pgdock/postgres image. Empty: the compose files' default image.
	PG     string
	Majors []int // PG parsed by Validate
}

// parseMajors reads a --pg list: majors separated by commas or spaces,
// each once, in the order given.
func parseMajors(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		m, err := strconv.Atoi(f)
		if err != nil || m < 10 || m > 99 {
			return nil, fmt.Errorf("--pg %q: %q is not a PostgreSQL major; accepted: majors from 10 on, comma separated, e.g. 13,15,17,18", s, f)
		}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// Validate checks the flags.
func (c *RunConfig) Validate() error {
	if _, err := zapcore.ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("--log-level %q: accepted: debug, info, warn, error", c.LogLevel)
	}
	switch c.Goals {
	case "", "enforce", "report":
	default:
		return fmt.Errorf("--goals %q: accepted: enforce, report", c.Goals)
	}
	majors, err := parseMajors(c.PG)
	if err != nil {
		return err
	}
	c.Majors = majors
	if c.Root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		c.Root = root
	}
	if _, err := os.Stat(filepath.Join(c.Root, "compose")); err != nil {
		return fmt.Errorf("--root %s: no compose/ directory there (%w)", c.Root, err)
	}
	return nil
}

// findRoot walks up from the working directory to the repository root (the
// directory holding go.work and compose/).
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.work")) && fileExists(filepath.Join(dir, "compose")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (a directory with go.work and compose/); run from the checkout or pass --root")
		}
		dir = parent
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Main runs the command line and returns the exit code. Output goes to
// stdout (progress, summary) and stderr (errors, the rig's log).
func Main(args []string, version string, stdout, stderr io.Writer) int {
	code := ExitOK
	root := &cobra.Command{
		Use:           "testrig",
		Short:         "Run pgdock's compose stacks in real containers and check them",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(listCmd(stdout))
	root.AddCommand(runCmd(&code, stdout))
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "testrig:", err)
		if code == ExitOK {
			code = ExitUsage
		}
	}
	return code
}

func listCmd(w io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the scenarios",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			optional := map[string]bool{}
			for _, s := range scenario.Optional() {
				optional[s.Name] = true
			}
			for _, s := range scenario.All() {
				if optional[s.Name] {
					s.Description = "(optional, runs when named) " + s.Description
				}
				var bs []string
				for _, b := range s.Budgets {
					bs = append(bs, b.Metric+" "+b.String())
				}
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Description)
				if len(bs) > 0 {
					fmt.Fprintf(tw, "\tbudgets: %v\n", bs)
				}
			}
			return tw.Flush()
		},
	}
}

func runCmd(code *int, stdout io.Writer) *cobra.Command {
	cfg := RunConfig{}
	c := &cobra.Command{
		Use:   "run [scenario...]",
		Short: "Run scenarios (all by default)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.Validate(); err != nil {
				*code = ExitUsage
				return err
			}
			pool := scenario.Registry()
			if len(args) > 0 {
				pool = scenario.All() // an optional scenario runs when named
			}
			selected, err := runner.Select(pool, args)
			if err != nil {
				*code = ExitUsage
				return err
			}
			*code = ExitFailed
			failed, err := run(cmd.Context(), cfg, selected, stdout)
			if err != nil {
				return err
			}
			if !failed {
				*code = ExitOK
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.JUnit, "junit", "", "write JUnit XML to `FILE`")
	f.StringVar(&cfg.Report, "report", "", "write a Markdown report to `FILE`, with one SVG timeline per scenario beside it")
	f.BoolVar(&cfg.Keep, "keep", false, "leave a failed scenario's stacks up for inspection (the next run sweeps them)")
	f.StringVar(&cfg.Root, "root", "", "repository root holding compose/ (default: found from the working directory)")
	f.StringVar(&cfg.LogLevel, "log-level", "warn", "rig log level on stderr: debug, info, warn, error")
	f.StringVar(&cfg.PG, "pg", os.Getenv("PG_MAJORS"), "run the direct-mode scenarios (direct, user, sleep) once per PostgreSQL `MAJORS`, e.g. 13,15,17,18, each on pgdock/postgres:<major> (make image PG_MAJOR=<major>); default $PG_MAJORS, else the compose files' image")
	f.StringVar(&cfg.Goals, "goals", "enforce", "pgdock's own time goals (≤ 5 s healthy, ≤ 2 s stop): enforce (a miss fails) or report (a miss is reported, not a failure; the plan's 30 s budgets are always enforced)")
	return c
}

// run does `testrig run`; it reports whether a scenario failed.
func run(parent context.Context, cfg RunConfig, selected []scenario.Scenario, stdout io.Writer) (bool, error) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	level, _ := zapcore.ParseLevel(cfg.LogLevel)
	zc := zap.NewDevelopmentConfig()
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.DisableStacktrace = true
	log, err := zc.Build()
	if err != nil {
		return true, err
	}
	defer func() { _ = log.Sync() }()

	f, isFile := stdout.(*os.File)
	pr := progress.New(stdout, isFile && progress.IsTerminal(f))
	defer pr.Close()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			pr.Line("interrupted: stopping the running scenario and tearing down its stacks")
		case <-finished:
		}
	}()

	loadStart := loadAvg()
	runID := scenario.NewRunID()
	d, err := engine.New(ctx, log, runID)
	if err != nil {
		return true, fmt.Errorf("%w (the rig needs a Docker Engine; start it or set DOCKER_HOST)", err)
	}
	defer d.Close()
	ver, err := d.Client().ServerVersion(ctx)
	engineDesc := "Docker Engine (version unknown)"
	if err == nil {
		engineDesc = fmt.Sprintf("Docker Engine %s (API %s, client negotiated %s)", ver.Version, ver.APIVersion, d.APIVersion())
	}
	pr.Line("testrig run %s on %s, repository %s", runID, engineDesc, cfg.Root)
	if n, err := d.Sweep(ctx); err != nil {
		return true, err
	} else if n > 0 {
		pr.Line("swept %d resources left by earlier runs", n)
	}

	res, runErr := runner.Run(ctx, runner.Options{
		Env: scenario.Env{
			Driver:   d,
			Root:     cfg.Root,
			RunID:    runID,
			Log:      log,
			Progress: pr,

			ReportGoals: cfg.Goals == "report",
		},
		Scenarios: selected,
		Keep:      cfg.Keep,
		Majors:    cfg.Majors,
	})
	res.Engine = engineDesc
	if imgs, err := d.ImageSummaries(context.Background(), "pgdock/*", "grafana/*"); err == nil {
		res.Images = imgs
	}
	res.Host = fmt.Sprintf("%d CPUs, load average %s at start, %s at the end", runtime.NumCPU(), loadStart, loadAvg())
	pr.Close()
	fmt.Fprintf(stdout, "\n%s", report.Summary(res, false))
	if cfg.Report != "" {
		if err := report.WriteFiles(cfg.Report, res); err != nil {
			return true, err
		}
		fmt.Fprintf(stdout, "report: %s\n", cfg.Report)
	}
	if cfg.JUnit != "" {
		if err := report.WriteJUnitFile(cfg.JUnit, res); err != nil {
			return true, err
		}
		fmt.Fprintf(stdout, "junit: %s\n", cfg.JUnit)
	}
	if runErr != nil {
		return true, runErr
	}
	if ctx.Err() != nil {
		return true, errors.New("interrupted")
	}
	failed := res.Failed()
	if failed {
		fmt.Fprintln(stdout, "FAILED")
	} else {
		fmt.Fprintln(stdout, "ok")
	}
	return failed, nil
}

// loadAvg is the 1, 5 and 15 minute load averages ("?" where unknown).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
