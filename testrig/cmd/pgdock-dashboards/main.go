// Command pgdock-dashboards writes pgdock's Grafana dashboards, generated with
// the Grafana Foundation SDK, into compose/monitoring/grafana/dashboards.
// Run it from the repository root (make dashboards) or pass -root; -check
// only compares and exits 1 when the committed file is out of date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pgdock/pgdock/testrig/internal/dashboard"
)

func main() {
	root := flag.String("root", ".", "repository root")
	check := flag.Bool("check", false, "only check that the committed file matches the generator")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "pgdock-dashboards:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	want, err := dashboard.JSON()
	if err != nil {
		return err
	}
	path := filepath.Join(root, dashboard.File)
	if check {
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s is out of date: run go run ./testrig/cmd/pgdock-dashboards", path)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, want, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}
