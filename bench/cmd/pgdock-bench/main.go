// Command pgdock-bench is `make bench`: it measures pgdock-entrypoint,
// pgdock-healthcheck and the plugin host side by side with bare PostgreSQL
// on this machine, prints a table and writes the results as JSON.
//
//	go run ./cmd/pgdock-bench -bin ../bin -out ../.bench/results.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pgdock/pgdock/bench/internal/bench"
)

func main() {
	cfg := bench.Config{Progress: os.Stderr}
	out := flag.String("out", ".bench/results.json", "where to write the JSON results")
	flag.StringVar(&cfg.BinDir, "bin", "bin", "directory with the binaries of `make build`")
	flag.StringVar(&cfg.WorkDir, "dir", "", "where to create the temporary data directories (default: $TMPDIR or /tmp)")
	flag.IntVar(&cfg.Runs, "runs", bench.DefaultRuns, "first boots per side; restarts are 2x, stops under load 1x, sleep-mode stops and plugin starts 3x this")
	flag.IntVar(&cfg.HealthRuns, "health-runs", bench.DefaultHealthRuns, "healthcheck and pg_isready invocations, each")
	flag.DurationVar(&cfg.Settle, "settle", bench.DefaultSettle, "idle time after ready before reading RSS and stopping")
	flag.DurationVar(&cfg.Load, "load", bench.DefaultLoad, "pgbench load time before SIGTERM")
	suites := flag.String("suites", strings.Join(bench.AllSuites, ","), "comma-separated suites to run: "+strings.Join(bench.AllSuites, ", "))
	flag.IntVar(&cfg.PatroniRuns, "patroni-runs", bench.DefaultPatroniRuns, "three-node clusters formed per Patroni timing (defaults, tuned); each measures start, two failovers and lost writes")
	flag.IntVar(&cfg.Backup.Scale, "backup-scale", bench.DefaultBackupScale, "pgbench -i -s of the backed-up database (about 15 MiB per unit; 70 is about 1 GiB)")
	flag.IntVar(&cfg.Backup.Runs, "backup-runs", bench.DefaultBackupRuns, "full backups and restores per side (pgBackRest with the plugin's defaults, pgBackRest tuned, pg_basebackup)")
	flag.IntVar(&cfg.Backup.ProcessMax, "backup-process-max", bench.DefaultBackupProcessMax(), "pgBackRest process-max of the side with the plugin's defaults (default: the number of CPUs, as the plugin); the other side runs pgBackRest's own defaults (1, gz)")
	flag.StringVar(&cfg.Backup.Compress, "backup-compress", bench.DefaultBackupCompress, "pgBackRest compress-type of the side with the plugin's defaults (lz4, as the plugin): none, bz2, gz, lz4, zst")
	flag.StringVar(&cfg.KeepLogs, "keep-logs", "", "where the logs of a failed Patroni cluster run are copied (default: logs/ beside -out)")
	flag.Parse()
	if cfg.KeepLogs == "" {
		cfg.KeepLogs = filepath.Join(filepath.Dir(*out), "logs")
	}
	for _, s := range strings.Split(*suites, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Suites = append(cfg.Suites, s)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, cfg, *out))
}

func run(ctx context.Context, cfg bench.Config, out string) int {
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgdock-bench:", err)
		return 1
	}
	if err := bench.WriteTable(os.Stdout, rep); err != nil {
		fmt.Fprintln(os.Stderr, "pgdock-bench:", err)
		return 1
	}
	if err := bench.WriteJSON(out, rep); err != nil {
		fmt.Fprintln(os.Stderr, "pgdock-bench:", err)
		return 1
	}
	fmt.Printf("\nJSON: %s\n", out)
	for _, m := range rep.Measures {
		if m.Status == bench.StatusError {
			fmt.Fprintf(os.Stderr, "pgdock-bench: %s failed: %s\n", m.Name, m.Note)
			return 1
		}
	}
	return 0
}
