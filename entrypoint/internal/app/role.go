package app

import (
	"os"
	"path/filepath"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/plugins/sdk"
)

// directRole is the node's role in direct mode, derived without a session:
// postmaster.pid's status line says "standby" (in recovery, accepting
// read-only connections) or "ready" (not in recovery); before the server
// wrote it, standby.signal or recovery.signal in PGDATA mean a replica.
func directRole(pgdata string) sdk.Role {
	if info, err := pidfile.Read(pgdata); err == nil {
		switch info.Status {
		case pidfile.StatusStandby:
			return sdk.RoleReplica
		case pidfile.StatusReady:
			return sdk.RolePrimary
		}
	}
	for _, f := range []string{"standby.signal", "recovery.signal"} {
		if _, err := os.Stat(filepath.Join(pgdata, f)); err == nil {
			return sdk.RoleReplica
		}
	}
	return sdk.RolePrimary
}
