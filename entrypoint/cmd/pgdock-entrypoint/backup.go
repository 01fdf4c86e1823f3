package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
)

// newBackupCmd is `pgdock-entrypoint backup`: a pgBackRest backup now, or
// the repository's backups (backup info). *code receives the exit code.
func newBackupCmd(o app.Options, code *int) *cobra.Command {
	_ = o
	_ = code
	return &cobra.Command{
		Use:   "backup [--type full|diff|incr] | backup info [--format text|json]",
		Short: "run a pgBackRest backup now against the running server, or list the repository's backups",
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("backup: not built yet")
		},
	}
}
