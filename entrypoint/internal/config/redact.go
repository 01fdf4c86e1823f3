package config

import (
	"strconv"
	"strings"
	"time"
)

// renderedPrefixes select the Env entries Redacted shows besides the
// resolved fields: the namespaces pgdock and its plugins read.
var renderedPrefixes = []string{"POSTGRES_", "POSTGRESQL_", "PG", "PATRONI_", "CITUS_", "ETCD_", "REPLICATION_", "SLEEP_MODE", "TIMEOUT", "SHUTDOWN_MODE", "LOG_", "EXTERNAL_ACCESS_"}

// Redacted returns a printable view of c for `config render`: every resolved
// variable by name (defaults applied, empty when unset), then the plugin
// variables found in Env. Secrets are replaced by Mask.
func Redacted(c Config) map[string]string {
	m := map[string]string{
		"POSTGRES_PASSWORD":                  mask(c.Password),
		"POSTGRES_USER":                      c.User,
		"POSTGRES_DB":                        c.DB,
		"POSTGRES_INITDB_ARGS":               shellJoin(c.InitdbArgs),
		"POSTGRES_INITDB_WALDIR":             c.InitdbWaldir,
		"POSTGRES_HOST_AUTH_METHOD":          displayValue("POSTGRES_HOST_AUTH_METHOD", c.HostAuthMethod),
		"PGDATA":                             c.PGData,
		"PGPORT":                             strconv.Itoa(c.Port),
		"PGCONFIG":                           c.ConfigDir,
		configFileVar:                        c.ConfigFile,
		"POSTGRESQL_TLS_CERT_FILE":           c.TLS.CertFile,
		"POSTGRESQL_TLS_KEY_FILE":            c.TLS.KeyFile,
		"POSTGRESQL_TLS_CA_FILE":             c.TLS.CAFile,
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": strings.Join(c.SocketDirs, ","),
		"EXTERNAL_ACCESS_ENABLE":             strconv.FormatBool(c.ExternalAccess),
		"SLEEP_MODE":                         strconv.FormatBool(c.SleepMode),
		"TIMEOUT":                            strconv.FormatInt(int64(c.Timeout/time.Second), 10),
		"SHUTDOWN_MODE":                      c.ShutdownMode,
		"LOG_LEVEL":                          c.LogLevel,
		"LOG_FORMAT":                         c.LogFormat,
		"PGDOCK_PLUGIN_DIR":                  c.PluginDir,
		"PGDOCK_STATE_DIR":                   c.StateDir,
		"PGDOCK_INITDB_DIR":                  c.InitDir,
	}
	for _, s := range c.Settings {
		m[s.Source] = s.Value
	}
	for _, r := range c.HBARules {
		m[r.Source] = displayValue(r.Source, r.Line)
	}
	for k, v := range c.Env {
		if _, done := m[k]; done || !rendered(k) {
			continue
		}
		m[k] = displayValue(k, v)
	}
	return m
}

func rendered(name string) bool {
	for _, p := range renderedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return Mask
}

// shellJoin quotes arguments so that the result splits back into them.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_=./:,+@%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
