package main

import (
	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
)

// newBackupCmd is `pgdock-entrypoint backup`: a pgBackRest backup now, or
// the repository's backups (backup info). *code receives the exit code.
func newBackupCmd(o app.Options, code *int) *cobra.Command {
	var typ, format string
	backup := &cobra.Command{
		Use:   "backup [--type full|diff|incr] | backup info [--format text|json]",
		Short: "run a pgBackRest backup now against the running server, or list the repository's backups",
		Long: "Run a pgBackRest backup now (PGBACKREST_ENABLE=true): the running entrypoint runs the pgbackrest\n" +
			"plugin's job for the type as the server user against the running server, on the primary only, one\n" +
			"at a time (a scheduled run of the same type in progress is refused), and logs pgBackRest's output to\n" +
			"the container log. Exits 0 when the backup succeeded. An incr or diff with no full backup in the\n" +
			"repository yet is taken as a full one (pgBackRest's rule).\n" +
			"`backup info` prints pgbackrest info for the repository (--format json for machines).",
		Args: cobra.NoArgs,
		Run:  func(*cobra.Command, []string) { *code = app.Backup(o, typ) },
	}
	backup.Flags().StringVar(&typ, "type", "full", "backup type: full, diff or incr")
	info := &cobra.Command{
		Use:   "info [--format text|json]",
		Short: "print the repository's backups (pgbackrest info)",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { *code = app.BackupInfo(o, format) },
	}
	info.Flags().StringVar(&format, "format", "text", "text or json")
	backup.AddCommand(info)
	return backup
}
