package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
)

// newUpgradeCmd is `pgdock-entrypoint upgrade`: an in-place major upgrade of
// an older PGDATA with pg_upgrade. *code receives the exit code.
func newUpgradeCmd(o app.Options, code *int) *cobra.Command {
	_ = o
	_ = code
	return &cobra.Command{
		Use:   "upgrade",
		Short: "upgrade an older PGDATA to this image's PostgreSQL major with pg_upgrade",
		RunE: func(*cobra.Command, []string) error {
			return fmt.Errorf("upgrade: not built yet")
		},
	}
}
