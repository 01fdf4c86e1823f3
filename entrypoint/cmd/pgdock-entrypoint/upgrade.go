package main

import (
	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
)

// newUpgradeCmd is `pgdock-entrypoint upgrade`: an in-place major upgrade of
// an older PGDATA with pg_upgrade. *code receives the exit code.
func newUpgradeCmd(o app.Options, code *int) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade",
		Short: "upgrade an older PGDATA to this image's PostgreSQL major with pg_upgrade, then exit",
		Long: "Upgrade the cluster in PGDATA, made by an older PostgreSQL major, to this image's major with pg_upgrade,\n" +
			"then exit without starting the server: what a start with PGDOCK_UPGRADE=true does before it starts\n" +
			"PostgreSQL. The older major's programs must be in the image (the upgrade image\n" +
			"pgdock/postgres-upgrade:<old>-to-<new>, or PGDOCK_UPGRADE_OLD_BINDIR). PGDOCK_UPGRADE_MODE=copy (default),\n" +
			"link or clone. A PGDATA that already holds this major is left as it is (exit 0). An upgrade a crash\n" +
			"interrupted is finished or rolled back. The old cluster is kept. Walk-through and rollback: docs/upgrades.md.",
		Args: cobra.NoArgs,
		Run:  func(*cobra.Command, []string) { *code = app.Upgrade(o) },
	}
}
