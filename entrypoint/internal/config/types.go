package config

import "time"

// Setting is one PostgreSQL parameter that pgdock writes into its managed
// include file. Source names the environment variable it came from, so that
// errors and `config render` can point back at it.
type Setting struct {
	Name   string // GUC name, lower case, may contain one dot (cron.database_name)
	Value  string // raw value; encoded by pgconf when written
	Source string // environment variable, e.g. POSTGRESQL_CONFIG_WORK_MEM
	// Default is true when no variable was set and the value is pgdock's
	// default (listen_addresses = '*', as in the official image).
	Default bool
	// Exact is true when pgdock's own check of the value is exactly what
	// the server accepts (an enum, a boolean, a string without a check
	// hook), so the preflight need not ask PostgreSQL about it.
	Exact bool
}

// HBARule is one PG_HBA_ADD_<n> rule, validated.
type HBARule struct {
	Index  int    // the <n> of PG_HBA_ADD_<n>; rules are written in ascending order
	Line   string // the rule as it will be written to the managed pg_hba file (canonical form from pgconf)
	Source string // environment variable name
}

// TLS holds the server certificate files (POSTGRESQL_TLS_*). Empty CertFile means TLS off.
type TLS struct {
	CertFile string
	KeyFile  string
	CAFile   string
}

// Config is the fully resolved, validated configuration of one entrypoint run.
// It is built only by Load; every field has its default applied.
type Config struct {
	// Official image variables.
	Password       string   // POSTGRES_PASSWORD(_FILE); secret, never logged
	User           string   // POSTGRES_USER(_FILE), default "postgres"
	DB             string   // POSTGRES_DB(_FILE), default = User
	InitdbArgs     []string // POSTGRES_INITDB_ARGS(_FILE), shell-word parsed
	InitdbWaldir   string   // POSTGRES_INITDB_WALDIR
	HostAuthMethod string   // POSTGRES_HOST_AUTH_METHOD (alias EXTERNAL_ACCESS_METHOD), default scram-sha-256 (md5 when password_encryption=md5 is configured); may carry pg_hba options
	PGData         string   // PGDATA, default /var/lib/postgresql/data
	Port           int      // PGPORT (alias POSTGRESQL_PORT), default 5432

	// pgdock core.
	ConfigDir    string        // PGCONFIG, default /etc/pgdock/conf
	ConfigFile   string        // POSTGRESQL_CONFIG_FILE (legacy): passed to postgres as -c config_file=<path>; empty = PGDATA's postgresql.conf
	Settings     []Setting     // named POSTGRESQL_* settings and POSTGRESQL_CONFIG_*, sorted by variable name; no duplicate GUC names
	HBARules     []HBARule     // PG_HBA_ADD_<n>, ascending n
	TLS          TLS           // POSTGRESQL_TLS_CERT_FILE/_KEY_FILE/_CA_FILE
	SocketDir    string        // first entry of SocketDirs: where pgdock itself connects
	SocketDirs   []string      // POSTGRESQL_UNIX_SOCKET_DIRECTORIES (alias PGRUN), default [/var/run/postgresql]
	SleepMode    bool          // SLEEP_MODE
	Timeout      time.Duration // TIMEOUT seconds, default 30s
	ShutdownMode string        // SHUTDOWN_MODE: smart, fast (default) or immediate
	LogLevel     string        // LOG_LEVEL normalised to debug, info, warn or error
	LogFormat    string        // LOG_FORMAT: text (default) or json
	PluginDir    string        // PGDOCK_PLUGIN_DIR, default /usr/lib/pgdock/plugins
	StateDir     string        // PGDOCK_STATE_DIR, default /run/pgdock
	InitDir      string        // PGDOCK_INITDB_DIR, default /docker-entrypoint-initdb.d (the official path)
	// ExternalAccess is EXTERNAL_ACCESS_ENABLE (default true). When false, no
	// `host all all all <HostAuthMethod>` rule is appended at first boot, so
	// only the loopback and PG_HBA_ADD_<n> rules admit TCP clients.
	ExternalAccess bool

	// Env is the environment after _FILE resolution and alias mapping
	// (NAME_FILE entries replaced by NAME). Plugins receive filtered views of it.
	Env map[string]string
	// Warnings are non-fatal notes for the log: one per deprecated alias used,
	// one per variable that has no effect in pgdock, the trust-auth warning.
	Warnings []string
}
