package patroni

import (
	"path/filepath"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// EnvStateDir is the host's state directory; the post-bootstrap callback
// (pgdock-entrypoint hook post-bootstrap, run by Patroni) finds the host's
// hooks socket through it.
const EnvStateDir = "PGDOCK_STATE_DIR"

// childBaseEnv are the plugin process's own variables Patroni inherits.
var childBaseEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"}

// ChildEnv is Patroni's complete environment, built deliberately: PATH, the
// locale, HOME, TZ and TMPDIR of the plugin's own environment (getenv), the
// host's state directory for the post-bootstrap callback, and
// PYTHONUNBUFFERED. Nothing named PATRONI_* (Patroni would read it as its
// own configuration, see ETCD_/REST suffix parsing), no PG* variable, no
// secret: patroni.yml carries the passwords.
func ChildEnv(getenv func(string) string, declared map[string]string) map[string]string {
	env := map[string]string{"PYTHONUNBUFFERED": "1"}
	for _, k := range childBaseEnv {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	if v := declared[EnvStateDir]; v != "" {
		env[EnvStateDir] = v
	}
	return env
}

// Command is the mode child: patroni with its configuration file, stopped
// with SIGTERM (Patroni stops PostgreSQL and releases the leader key).
func Command(filesDir string, env map[string]string) *sdk.Command {
	return &sdk.Command{
		Argv:       []string{"patroni", filepath.Join(filesDir, ConfigFile)},
		Env:        env,
		StopSignal: "SIGTERM",
	}
}
