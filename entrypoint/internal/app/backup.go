package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// The pgbackrest plugin's name, its jobs (one per backup type) and the
// file it renders into its files directory (plugins/pgbackrest).
const (
	backupPlugin   = "pgbackrest"
	backupConfName = "pgbackrest.conf"
)

// BackupTypes are the types `pgdock-entrypoint backup --type` accepts.
var BackupTypes = []string{"full", "diff", "incr"}

// Backup is `pgdock-entrypoint backup --type <t>`: the running entrypoint
// runs the pgbackrest plugin's job for t now (hook run-job), as the server
// user, against the running server, and logs its output to the container
// log; 0 when the backup succeeded, 1 otherwise.
func Backup(o Options, typ string) int {
	if !slices.Contains(BackupTypes, typ) {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint backup: --type %q: one of full, diff, incr\n", typ)
		return 2
	}
	return Hook(o, hookRunJob, []string{backupPlugin, typ})
}

// BackupInfo is `pgdock-entrypoint backup info`: `pgbackrest info` (text,
// or --output=json) with the configuration the running entrypoint's
// pgbackrest plugin rendered, with no PGBACKREST_* of the caller's
// environment, as the server user when run by root.
func BackupInfo(o Options, format string) int {
	if format != "text" && format != "json" {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint backup info: --format %q: text or json\n", format)
		return 2
	}
	dir := state.ResolveDir(o.Env["PGDOCK_STATE_DIR"], os.Getuid())
	conf := filepath.Join(dir, "files", backupPlugin, backupConfName)
	if _, err := os.Stat(conf); err != nil {
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint backup info: no pgBackRest configuration at %s (is the entrypoint running with PGBACKREST_ENABLE=true?): %v\n", conf, err)
		return 1
	}
	bin, err := exec.LookPath("pgbackrest")
	if err != nil {
		fmt.Fprintln(o.Stderr, "pgdock-entrypoint backup info: pgbackrest is not installed (Debian package pgbackrest)")
		return 1
	}
	args := []string{"--config=" + conf, "--log-level-console=warn"}
	if format == "json" {
		args = append(args, "--output=json")
	}
	cmd := exec.Command(bin, append(args, "info")...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"}
	for _, k := range []string{"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} { // S3 key type web-id
		if v := o.Env[k]; v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if os.Getuid() == 0 {
		// pgBackRest must not leave root-owned files (locks) the server
		// user's own runs then cannot use.
		user := o.ServerUser
		if user == "" {
			user = "postgres"
		}
		id, err := privilege.Lookup(user)
		if err != nil {
			fmt.Fprintf(o.Stderr, "pgdock-entrypoint backup info: %v\n", err)
			return 1
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID)}}
	}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return max(ee.ExitCode(), 1)
		}
		fmt.Fprintf(o.Stderr, "pgdock-entrypoint backup info: %v\n", err)
		return 1
	}
	return 0
}
