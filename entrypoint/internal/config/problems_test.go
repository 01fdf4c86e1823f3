package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInputs checks that each bad input is reported against the right
// variable with a message saying what is accepted.
func TestBadInputs(t *testing.T) {
	longDir := "/" + strings.Repeat("d", 100)
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		wantMsg string
	}{
		{"password and file", map[string]string{"POSTGRES_PASSWORD": "pw", "POSTGRES_PASSWORD_FILE": "/run/secrets/pw"}, "POSTGRES_PASSWORD", "both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)"},
		{"user and file", map[string]string{"POSTGRES_USER": "app", "POSTGRES_USER_FILE": "/run/secrets/user"}, "POSTGRES_USER", "both POSTGRES_USER and POSTGRES_USER_FILE are set (but are exclusive)"},
		{"user with double quote", map[string]string{"POSTGRES_USER": `my "odd" user`}, "POSTGRES_USER", `must not contain " $ ' \ or a line break`},
		{"crash policy", map[string]string{"EXAMPLE_CRASH_POLICY": "retry"}, "EXAMPLE_CRASH_POLICY", "must be fail or continue"},
		{"global crash policy", map[string]string{"PGDOCK_PLUGIN_CRASH_POLICY": "ignore"}, "PGDOCK_PLUGIN_CRASH_POLICY", "must be fail or continue"},
		{"user with single quote", map[string]string{"POSTGRES_USER": "o'brien"}, "POSTGRES_USER", "PostgreSQL refuses such a bootstrap superuser name"},
		{"unreadable db file", map[string]string{"POSTGRES_DB_FILE": "/missing"}, "POSTGRES_DB_FILE", "cannot read the secret file"},
		{"initdb args unbalanced quote", map[string]string{"POSTGRES_INITDB_ARGS": "--locale='de"}, "POSTGRES_INITDB_ARGS", "cannot split into arguments"},
		{"initdb args shell operator", map[string]string{"POSTGRES_INITDB_ARGS": "--data-checksums; rm -rf /"}, "POSTGRES_INITDB_ARGS", "shell operators"},
		{"initdb args subshell", map[string]string{"POSTGRES_INITDB_ARGS": "(--data-checksums)"}, "POSTGRES_INITDB_ARGS", "cannot split into arguments"},
		{"waldir relative", map[string]string{"POSTGRES_INITDB_WALDIR": "wal"}, "POSTGRES_INITDB_WALDIR", "must be an absolute path"},
		{"waldir inside pgdata", map[string]string{"POSTGRES_INITDB_WALDIR": "/var/lib/postgresql/data/wal"}, "POSTGRES_INITDB_WALDIR", "must be outside PGDATA"},
		{"unknown auth method", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "md6"}, "POSTGRES_HOST_AUTH_METHOD", `invalid authentication method "md6"; accepted: trust, reject, scram-sha-256, md5`},
		{"peer auth for host rule", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "peer"}, "POSTGRES_HOST_AUTH_METHOD", "peer authentication is only supported on local sockets"},
		{"auth method with a comment", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "md5 # remote"}, "POSTGRES_HOST_AUTH_METHOD", "comments"},
		{"legacy external access method", map[string]string{"EXTERNAL_ACCESS_METHOD": "plain"}, "EXTERNAL_ACCESS_METHOD", `invalid authentication method "plain"`},
		{"pgdata relative", map[string]string{"PGDATA": "data"}, "PGDATA", "must be an absolute path without . or .. elements"},
		{"pgdata dot-dot", map[string]string{"PGDATA": "/var/lib/../data"}, "PGDATA", "must be an absolute path without . or .. elements"},
		{"pgdata root", map[string]string{"PGDATA": "/"}, "PGDATA", "/ is a system directory"},
		{"port zero", map[string]string{"PGPORT": "0"}, "PGPORT", "must be an integer between 1 and 65535"},
		{"port too big", map[string]string{"PGPORT": "65536"}, "PGPORT", "must be an integer between 1 and 65535"},
		{"port not a number", map[string]string{"PGPORT": "54x32"}, "PGPORT", "must be an integer between 1 and 65535"},
		{"port negative", map[string]string{"PGPORT": "-5432"}, "PGPORT", "must be an integer between 1 and 65535"},
		{"legacy port", map[string]string{"POSTGRESQL_PORT": "abc"}, "POSTGRESQL_PORT", "must be an integer between 1 and 65535"},
		{"pgconfig relative", map[string]string{"PGCONFIG": "conf"}, "PGCONFIG", "must be an absolute path"},
		{"config file relative", map[string]string{"POSTGRESQL_CONFIG_FILE": "postgresql.conf"}, "POSTGRESQL_CONFIG_FILE", "must be an absolute path"},
		{"shared buffers lower-case unit", map[string]string{"POSTGRESQL_SHARED_BUFFERS": "256mb"}, "POSTGRESQL_SHARED_BUFFERS", "optional unit kB, MB, GB or TB"},
		{"work mem with space", map[string]string{"POSTGRESQL_WORK_MEM": "4 MB"}, "POSTGRESQL_WORK_MEM", "optional unit kB, MB, GB or TB"},
		{"maintenance work mem negative", map[string]string{"POSTGRESQL_MAINTENANCE_WORK_MEM": "-1"}, "POSTGRESQL_MAINTENANCE_WORK_MEM", "optional unit kB, MB, GB or TB"},
		{"max connections zero", map[string]string{"POSTGRESQL_MAX_CONNECTIONS": "0"}, "POSTGRESQL_MAX_CONNECTIONS", "must be an integer between 1 and 262143"},
		{"max connections word", map[string]string{"POSTGRESQL_MAX_CONNECTIONS": "many"}, "POSTGRESQL_MAX_CONNECTIONS", "must be an integer between 1 and 262143"},
		{"listen addresses bad host", map[string]string{"POSTGRESQL_LISTEN_ADDRESSES": "0.0.0.0, bad host"}, "POSTGRESQL_LISTEN_ADDRESSES", `must be * or a comma-separated list of host names and IP addresses ("bad host" is neither)`},
		{"listen addresses empty item", map[string]string{"POSTGRESQL_LISTEN_ADDRESSES": "localhost,"}, "POSTGRESQL_LISTEN_ADDRESSES", "must be * or a comma-separated list"},
		{"log statement", map[string]string{"POSTGRESQL_LOG_STATEMENT": "verbose"}, "POSTGRESQL_LOG_STATEMENT", "must be one of none, ddl, mod, all"},
		{"log duration", map[string]string{"POSTGRESQL_LOG_DURATION": "maybe"}, "POSTGRESQL_LOG_DURATION", "must be a boolean"},
		{"generic setting without a name", map[string]string{"POSTGRESQL_CONFIG_": "x"}, "POSTGRESQL_CONFIG_", "must name a parameter after the prefix"},
		{"generic setting bad name", map[string]string{"POSTGRESQL_CONFIG_WORK-MEM": "4MB"}, "POSTGRESQL_CONFIG_WORK-MEM", `parameter name "work-mem" is invalid`},
		{"generic setting two dots", map[string]string{"POSTGRESQL_CONFIG_A__B__C": "1"}, "POSTGRESQL_CONFIG_A__B__C", "more than one dot"},
		{"generic setting starting with a digit", map[string]string{"POSTGRESQL_CONFIG_1X": "1"}, "POSTGRESQL_CONFIG_1X", "not starting with a digit"},
		{"reserved port", map[string]string{"POSTGRESQL_CONFIG_PORT": "5433"}, "POSTGRESQL_CONFIG_PORT", "sets port, which pgdock manages; use PGPORT instead"},
		{"reserved socket directories", map[string]string{"POSTGRESQL_CONFIG_UNIX_SOCKET_DIRECTORIES": "/tmp"}, "POSTGRESQL_CONFIG_UNIX_SOCKET_DIRECTORIES", "use POSTGRESQL_UNIX_SOCKET_DIRECTORIES instead"},
		{"reserved data directory", map[string]string{"POSTGRESQL_CONFIG_DATA_DIRECTORY": "/data"}, "POSTGRESQL_CONFIG_DATA_DIRECTORY", "use PGDATA instead"},
		{"reserved config file", map[string]string{"POSTGRESQL_CONFIG_CONFIG_FILE": "/etc/pg.conf"}, "POSTGRESQL_CONFIG_CONFIG_FILE", "use POSTGRESQL_CONFIG_FILE instead"},
		{"reserved hba file", map[string]string{"POSTGRESQL_CONFIG_HBA_FILE": "/etc/hba.conf"}, "POSTGRESQL_CONFIG_HBA_FILE", "use PG_HBA_ADD_<n> rules"},
		{"reserved ident file", map[string]string{"POSTGRESQL_CONFIG_IDENT_FILE": "/etc/ident.conf"}, "POSTGRESQL_CONFIG_IDENT_FILE", "sets ident_file, which pgdock manages"},
		{"reserved include dir", map[string]string{"POSTGRESQL_CONFIG_INCLUDE_DIR": "/etc/conf.d"}, "POSTGRESQL_CONFIG_INCLUDE_DIR", "use a postgresql.conf in PGCONFIG instead"},
		{"reserved ssl cert", map[string]string{"POSTGRESQL_CONFIG_SSL_CERT_FILE": "/tls/crt"}, "POSTGRESQL_CONFIG_SSL_CERT_FILE", "use POSTGRESQL_TLS_CERT_FILE instead"},
		{"reserved ssl key", map[string]string{"POSTGRESQL_CONFIG_SSL_KEY_FILE": "/tls/key"}, "POSTGRESQL_CONFIG_SSL_KEY_FILE", "use POSTGRESQL_TLS_KEY_FILE instead"},
		{"setting with a newline", map[string]string{"POSTGRESQL_CONFIG_APPLICATION_NAME": "a\nb"}, "POSTGRESQL_CONFIG_APPLICATION_NAME", "must not contain a newline, carriage return or NUL character"},
		{"setting with a carriage return", map[string]string{"POSTGRESQL_TIMEZONE": "UTC\r"}, "POSTGRESQL_TIMEZONE", "must not contain a newline, carriage return or NUL character"},
		{"same parameter twice", map[string]string{"POSTGRESQL_WORK_MEM": "64MB", "POSTGRESQL_CONFIG_WORK_MEM": "32MB"}, "POSTGRESQL_WORK_MEM", "sets work_mem, which POSTGRESQL_CONFIG_WORK_MEM also sets; set only one of them"},
		{"same parameter, different case", map[string]string{"POSTGRESQL_CONFIG_work_mem": "64MB", "POSTGRESQL_CONFIG_WORK_MEM": "32MB"}, "POSTGRESQL_CONFIG_work_mem", "which POSTGRESQL_CONFIG_WORK_MEM also sets"},
		{"hba rule without a number", map[string]string{"PG_HBA_ADD_X": "host all all all md5"}, "PG_HBA_ADD_X", "must end in a non-negative integer"},
		{"hba rule with a negative number", map[string]string{"PG_HBA_ADD_-1": "host all all all md5"}, "PG_HBA_ADD_-1", "must end in a non-negative integer"},
		{"hba rule bad cidr", map[string]string{"PG_HBA_ADD_1": "host all all 10.0.0.0/33 md5"}, "PG_HBA_ADD_1", "invalid pg_hba rule: invalid CIDR mask"},
		{"hba rule with a comment", map[string]string{"PG_HBA_ADD_2": "local all all md5 # local"}, "PG_HBA_ADD_2", "comments"},
		{"hba rule bad type", map[string]string{"PG_HBA_ADD_3": "hots all all all md5"}, "PG_HBA_ADD_3", `invalid connection type "hots"; accepted: local, host, hostssl`},
		{"hba rule file inclusion", map[string]string{"PG_HBA_ADD_4": "host @dbs all all md5"}, "PG_HBA_ADD_4", "@file inclusion is not supported"},
		{"tls cert without key", map[string]string{"POSTGRESQL_TLS_CERT_FILE": "/tls/crt"}, "POSTGRESQL_TLS_CERT_FILE", "needs POSTGRESQL_TLS_KEY_FILE too"},
		{"tls key without cert", map[string]string{"POSTGRESQL_TLS_KEY_FILE": "/tls/key"}, "POSTGRESQL_TLS_KEY_FILE", "needs POSTGRESQL_TLS_CERT_FILE too"},
		{"tls ca without cert", map[string]string{"POSTGRESQL_TLS_CA_FILE": "/tls/ca"}, "POSTGRESQL_TLS_CA_FILE", "needs POSTGRESQL_TLS_CERT_FILE and POSTGRESQL_TLS_KEY_FILE"},
		{"tls relative cert", map[string]string{"POSTGRESQL_TLS_CERT_FILE": "tls/crt", "POSTGRESQL_TLS_KEY_FILE": "/tls/key"}, "POSTGRESQL_TLS_CERT_FILE", "must be an absolute path"},
		{"socket dirs empty entry", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": "/run/pg,,/tmp"}, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "without empty entries"},
		{"socket dir relative", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": "run/pg"}, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", `directory "run/pg" must be an absolute path`},
		{"socket dir twice", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": "/tmp,/tmp/"}, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "listed twice"},
		{"socket dir too long", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": longDir}, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "is too long"},
		{"socket dir with a quote", map[string]string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES": `/run/"pg"`}, "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "must not contain a double quote"},
		{"user with single quote", map[string]string{"POSTGRES_USER": "o'brien"}, "POSTGRES_USER", "PostgreSQL refuses such a bootstrap superuser name"},
		{"legacy socket dir", map[string]string{"PGRUN": "relative"}, "PGRUN", "must be an absolute path"},
		{"sleep mode", map[string]string{"SLEEP_MODE": "enabled"}, "SLEEP_MODE", "must be a boolean: true/false, 1/0, yes/no or on/off"},
		{"external access", map[string]string{"EXTERNAL_ACCESS_ENABLE": "y"}, "EXTERNAL_ACCESS_ENABLE", "must be a boolean"},
		{"timeout zero", map[string]string{"TIMEOUT": "0"}, "TIMEOUT", "must be a whole number of seconds between 1 and 86400"},
		{"timeout with unit", map[string]string{"TIMEOUT": "30s"}, "TIMEOUT", "must be a whole number of seconds"},
		{"timeout huge", map[string]string{"TIMEOUT": "99999999999999"}, "TIMEOUT", "between 1 and 86400"},
		{"shutdown mode", map[string]string{"SHUTDOWN_MODE": "kill"}, "SHUTDOWN_MODE", "must be one of smart, fast, immediate"},
		{"log level", map[string]string{"LOG_LEVEL": "trace"}, "LOG_LEVEL", "must be one of debug, info, warn, error"},
		{"log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT", "must be one of text, json"},
		{"plugin dir", map[string]string{"PGDOCK_PLUGIN_DIR": "plugins"}, "PGDOCK_PLUGIN_DIR", "must be an absolute path"},
		{"state dir", map[string]string{"PGDOCK_STATE_DIR": "/run/../state"}, "PGDOCK_STATE_DIR", "must be an absolute path without . or .. elements"},
		{"alias conflict bool", map[string]string{"USE_PATRONI": "true", "PATRONI_ENABLE": "false"}, "USE_PATRONI", `conflicts with PATRONI_ENABLE="false"; set only PATRONI_ENABLE`},
		{"alias conflict path", map[string]string{"PGBACKUP": "/a", "PGBACKREST_REPO_PATH": "/b"}, "PGBACKUP", `conflicts with PGBACKREST_REPO_PATH="/b"`},
		{"two aliases disagree", map[string]string{"BACKUP_ENABLED": "true", "ENABLE_PGBACKREST": "false"}, "ENABLE_PGBACKREST", `conflicts with BACKUP_ENABLED="true"; set only PGBACKREST_ENABLE`},
		{"alias conflict port", map[string]string{"POSTGRESQL_PORT": "5433", "PGPORT": "5432"}, "POSTGRESQL_PORT", `conflicts with PGPORT="5432"`},
		{"alias conflict prefix", map[string]string{"PGBACKREST_REPO1_S3_BUCKET": "a", "PGBACKREST_REPO_S3_BUCKET": "b"}, "PGBACKREST_REPO1_S3_BUCKET", `conflicts with PGBACKREST_REPO_S3_BUCKET="b"`},
	}
	require.GreaterOrEqual(t, len(tests), 35)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ve := loadProblems(t, tt.env, files{}.read)
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
				if p.Var == tt.wantVar && strings.Contains(p.Message, tt.wantMsg) {
					return
				}
			}
			t.Errorf("no problem for %s containing %q; got:\n%s", tt.wantVar, tt.wantMsg, strings.Join(got, "\n"))
		})
	}
}

// TestEveryProblemAtOnce checks that one Load reports all problems, sorted
// by variable, one per line in Error().
func TestEveryProblemAtOnce(t *testing.T) {
	ve := loadProblems(t, map[string]string{
		"PGPORT":        "x",
		"TIMEOUT":       "0",
		"SHUTDOWN_MODE": "KILL",
		"PGDATA":        "rel",
		"PG_HBA_ADD_1":  "host all all all md6",
		"SLEEP_MODE":    "maybe",
	}, files{}.read)
	var vars []string
	for _, p := range ve.Problems {
		vars = append(vars, p.Var)
	}
	assert.Equal(t, []string{"PGDATA", "PGPORT", "PG_HBA_ADD_1", "SHUTDOWN_MODE", "SLEEP_MODE", "TIMEOUT"}, vars)
	lines := strings.Split(ve.Error(), "\n")
	require.Len(t, lines, 6)
	assert.Equal(t, `PGDATA="rel": must be an absolute path without . or .. elements (e.g. /var/lib/postgresql/data)`, lines[0])
	assert.Equal(t, `SHUTDOWN_MODE="KILL": must be one of smart, fast, immediate`, lines[3], "the value is shown as given")
}

func TestConflictingAliasReportedOnce(t *testing.T) {
	ve := loadProblems(t, map[string]string{"POSTGRESQL_PORT": "x"}, files{}.read)
	require.Len(t, ve.Problems, 1)
	assert.Equal(t, "POSTGRESQL_PORT", ve.Problems[0].Var)
}

func TestLoadErrorKeepsWarnings(t *testing.T) {
	c, err := Load(map[string]string{"USE_PATRONI": "true", "PGPORT": "x"}, nil)
	require.Error(t, err)
	assert.Equal(t, []string{"USE_PATRONI is deprecated; use PATRONI_ENABLE instead"}, c.Warnings)
	assert.Empty(t, c.PGData, "nothing else is usable after an error")
}

func TestSecretsAreMaskedInErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{"password and file", map[string]string{"POSTGRES_PASSWORD": secret, "POSTGRES_PASSWORD_FILE": "/s"}, "POSTGRES_PASSWORD"},
		{"s3 secret and file", map[string]string{"PGBACKREST_REPO_S3_KEY_SECRET": secret, "PGBACKREST_REPO_S3_KEY_SECRET_FILE": "/s"}, "PGBACKREST_REPO_S3_KEY_SECRET"},
		{"legacy replication password conflict", map[string]string{"PATRONI_REPLICATION_PASSWORD": secret, "REPLICATION_PASSWORD": secret + "-other"}, "PATRONI_REPLICATION_PASSWORD"},
		{"hba rule with an ldap password", map[string]string{"PG_HBA_ADD_1": "host all all ldapbindpasswd=" + secret + " ldap ldapbasedn=dc=x"}, "PG_HBA_ADD_1"},
		{"hba rule with a radius secret", map[string]string{"PG_HBA_ADD_1": "host all all all radius radiusservers=r radiussecrets=" + secret + " bogus"}, "PG_HBA_ADD_1"},
		{"auth method with an ldap password", map[string]string{"POSTGRES_HOST_AUTH_METHOD": "ldap ldapbindpasswd=" + secret}, "POSTGRES_HOST_AUTH_METHOD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ve := loadProblems(t, tt.env, files{"/s": "from-file"}.read)
			assert.NotContains(t, ve.Error(), secret)
			found := false
			for _, p := range ve.Problems {
				if p.Var == tt.wantVar {
					found = true
					assert.Equal(t, Mask, p.Value)
				}
			}
			assert.True(t, found, "no problem for %s: %v", tt.wantVar, ve)
		})
	}
}

func TestIsSecret(t *testing.T) {
	for _, n := range []string{"POSTGRES_PASSWORD", "REPLICATION_PASSWORD", "PGBACKREST_REPO_S3_KEY", "PGBACKREST_REPO_CIPHER_PASS", "PGPASSWORD", "PATRONI_RESTAPI_PASSWORD", "PGBACKREST_REPO_AZURE_KEY", "SOME_TOKEN", "MY_SECRET_THING"} {
		assert.True(t, IsSecret(n), n)
	}
	for _, n := range []string{"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS", "POSTGRES_PASSWORD_FILE", "POSTGRESQL_TLS_KEY_FILE", "PGDATA", "POSTGRESQL_CONFIG_PASSWORD_ENCRYPTION", "PGBACKREST_REPO_S3_KEY_TYPE"} {
		assert.False(t, IsSecret(n), n)
	}
	for _, n := range SecretVars() {
		switch n {
		case "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS":
		default:
			assert.True(t, IsSecret(n), n)
		}
	}
}

// TestSystemDirectories: the directories pgdock takes ownership of (state,
// sockets, PGDATA, WAL) must not be the root, a system directory or a
// kernel file system, whatever the spelling; a shared sticky directory is
// fine for sockets only.
func TestSystemDirectories(t *testing.T) {
	const sock, state = "POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "PGDOCK_STATE_DIR"
	bad := []struct{ v, dir, want string }{
		{state, "/", "/ is a system directory"},
		{state, "/tmp", "/tmp is shared by every user"},
		{state, "/tmp/", "/tmp is shared by every user"},
		{state, "//tmp", "/tmp is shared by every user"},
		{state, "/var/tmp", "shared by every user"},
		{state, "/dev/shm", "shared by every user"},
		{state, "/etc", "/etc is a system directory"},
		{state, "/./etc", "/etc is a system directory"},
		{state, "/etc/../usr", "/usr is a system directory"},
		{state, "//usr", "/usr is a system directory"},
		{state, "/usr/local", "system directory"},
		{state, "/usr/lib/", "system directory"},
		{state, "/run", "system directory"},
		{state, "/var/run", "system directory"},
		{state, "/var/lib", "system directory"},
		{state, "/home", "system directory"},
		{state, "/root", "system directory"},
		{state, "/lib64", "system directory"},
		{state, "/proc/self", "inside /proc, a kernel file system"},
		{state, "/sys/fs/cgroup", "inside /sys"},
		{sock, "/", "/ is a system directory"},
		{sock, "/etc", "/etc is a system directory"},
		{sock, "/./etc", "/etc is a system directory"},
		{sock, "//usr", "/usr is a system directory"},
		{sock, "/var/run/postgresql,/run", "/run is a system directory"},
		{sock, "/tmp, /var", "/var is a system directory"},
		{sock, "/bin", "system directory"},
		{sock, "/boot", "system directory"},
		{sock, "/sbin", "system directory"},
		{sock, "/dev", "system directory"},
		{sock, "/dev/pts", "system directory"},
		{"PGDATA", "/var", "system directory"},
		{"PGDATA", "/usr/share/", "system directory"},
		{"PGDATA", "/tmp", "shared by every user"},
		{"POSTGRES_INITDB_WALDIR", "/etc", "system directory"},
	}
	for _, tc := range bad {
		t.Run(tc.v+"="+tc.dir, func(t *testing.T) {
			ve := loadProblems(t, map[string]string{tc.v: tc.dir}, nil)
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
				if p.Var == tc.v && strings.Contains(p.Message, tc.want) {
					assert.Contains(t, p.Message, "pgdock alone", "says what to use instead")
					return
				}
			}
			t.Errorf("no problem for %s containing %q; got:\n%s", tc.v, tc.want, strings.Join(got, "\n"))
		})
	}
	for _, env := range []map[string]string{
		{sock: "/tmp"},
		{sock: "/tmp/"},
		{sock: "/var/tmp,/dev/shm"},
		{sock: "/var/run/postgresql,/tmp"},
		{sock: "/run/postgresql"},
		{state: "/run/pgdock"},
		{state: "/tmp/pgdock"},
		{state: "/dev/shm/pgdock"},
		{state: "/var/lib/pgdock/state"},
		{"PGDATA": "/var/lib/postgresql/data"},
		{"PGDATA": "/data"},
	} {
		_, err := Load(env, nil)
		assert.NoError(t, err, "%v", env)
	}
}
