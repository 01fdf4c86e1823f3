package pluginhost

import (
	"maps"
	"slices"
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// DefaultPath is the PATH given to plugins when Env has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// baseEnvNames are passed to every plugin process when set.
func baseEnvNames() []string {
	return []string{"HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"}
}

// secretWords mark a variable name as secret-looking (one '_'-separated
// word of the name).
func secretWords() []string {
	return []string{"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "CREDENTIALS"}
}

// looksSecret reports whether name has a secret-looking word, e.g.
// PGBACKREST_REPO_CIPHER_PASS or PGBACKREST_REPO_S3_KEY_SECRET.
func looksSecret(name string) bool {
	for _, w := range strings.Split(name, "_") {
		if slices.Contains(secretWords(), w) {
			return true
		}
	}
	return false
}

// pathOf returns the PATH plugins (and requirement checks) use.
func pathOf(env map[string]string) string {
	if p := env["PATH"]; p != "" {
		return p
	}
	return DefaultPath
}

// startEnv is the environment a plugin process starts with, before the host
// knows what it declares: PATH and the locale/home basics, the host's own
// PGDOCK_PLUGIN_* variables, and the plugin's own namespace <NAME>_* minus
// secret-looking names (so that switches acting before the handshake work).
// go-plugin appends its handshake variables. Everything else a plugin
// declared, secrets included, reaches it only inside hook requests.
func startEnv(name, logLevel string, env map[string]string) []string {
	out := []string{
		"PATH=" + pathOf(env),
		sdk.EnvPluginName + "=" + name,
		sdk.EnvLogLevel + "=" + logLevel,
	}
	for _, k := range baseEnvNames() {
		if v, ok := env[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	prefix := sdk.EnvPrefix(name)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if strings.HasPrefix(k, prefix) && !looksSecret(k) {
			out = append(out, k+"="+env[k])
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
