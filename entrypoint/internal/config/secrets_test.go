package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretFiles(t *testing.T) {
	fs := files{
		"/run/secrets/pw":     "s3cret\n\n",
		"/run/secrets/user":   "app\n",
		"/run/secrets/db":     "appdb",
		"/run/secrets/args":   "--data-checksums --locale=C\n",
		"/run/secrets/multi":  "line1\nline2\n",
		"/run/secrets/spaces": "  pw with spaces \r\n",
		"/run/secrets/repl":   "replpw\n",
	}
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{"official four", map[string]string{
			"POSTGRES_PASSWORD_FILE": "/run/secrets/pw", "POSTGRES_USER_FILE": "/run/secrets/user",
			"POSTGRES_DB_FILE": "/run/secrets/db", "POSTGRES_INITDB_ARGS_FILE": "/run/secrets/args",
		}, func(t *testing.T, c Config) {
			assert.Equal(t, "s3cret", c.Password, "trailing newlines stripped")
			assert.Equal(t, "app", c.User)
			assert.Equal(t, "appdb", c.DB)
			assert.Equal(t, []string{"--data-checksums", "--locale=C"}, c.InitdbArgs)
			assert.Equal(t, map[string]string{
				"POSTGRES_PASSWORD": "s3cret", "POSTGRES_USER": "app", "POSTGRES_DB": "appdb", "POSTGRES_INITDB_ARGS": "--data-checksums --locale=C",
			}, c.Env, "NAME_FILE is replaced by NAME")
		}},
		{"db defaults to the user read from a file", map[string]string{"POSTGRES_USER_FILE": "/run/secrets/user"}, func(t *testing.T, c Config) {
			assert.Equal(t, "app", c.DB)
		}},
		{"only trailing newlines are stripped", map[string]string{"POSTGRES_PASSWORD_FILE": "/run/secrets/multi", "REPLICATION_PASSWORD_FILE": "/run/secrets/spaces"}, func(t *testing.T, c Config) {
			assert.Equal(t, "line1\nline2", c.Password)
			assert.Equal(t, "  pw with spaces \r", c.Env["REPLICATION_PASSWORD"])
		}},
		{"empty value and a file", map[string]string{"POSTGRES_PASSWORD": "", "POSTGRES_PASSWORD_FILE": "/run/secrets/pw"}, func(t *testing.T, c Config) {
			assert.Equal(t, "s3cret", c.Password)
		}},
		{"empty file variable is unset", map[string]string{"POSTGRES_PASSWORD": "direct", "POSTGRES_PASSWORD_FILE": ""}, func(t *testing.T, c Config) {
			assert.Equal(t, "direct", c.Password)
			assert.NotContains(t, c.Env, "POSTGRES_PASSWORD_FILE")
		}},
		{"legacy secret through a file", map[string]string{"PATRONI_REPLICATION_PASSWORD_FILE": "/run/secrets/repl"}, func(t *testing.T, c Config) {
			assert.Equal(t, "replpw", c.Env["REPLICATION_PASSWORD"])
			assert.NotContains(t, c.Env, "PATRONI_REPLICATION_PASSWORD")
			assert.NotContains(t, c.Env, "PATRONI_REPLICATION_PASSWORD_FILE")
			assert.Len(t, c.Warnings, 1)
		}},
		{"plugin secrets", map[string]string{"PGBACKREST_REPO_CIPHER_PASS_FILE": "/run/secrets/pw", "CITUS_COORDINATOR_PASSWORD_FILE": "/run/secrets/repl"}, func(t *testing.T, c Config) {
			assert.Equal(t, "s3cret", c.Env["PGBACKREST_REPO_CIPHER_PASS"])
			assert.Equal(t, "replpw", c.Env["CITUS_COORDINATOR_PASSWORD"])
		}},
		{"tls paths are not indirections", map[string]string{"POSTGRESQL_TLS_CERT_FILE": "/run/secrets/pw", "POSTGRESQL_TLS_KEY_FILE": "/run/secrets/user"}, func(t *testing.T, c Config) {
			assert.Equal(t, "/run/secrets/pw", c.TLS.CertFile)
			assert.Equal(t, "/run/secrets/pw", c.Env["POSTGRESQL_TLS_CERT_FILE"])
			assert.NotContains(t, c.Env, "POSTGRESQL_TLS_CERT")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var read []string
			c, err := Load(tt.env, func(p string) ([]byte, error) {
				read = append(read, p)
				return fs.read(p)
			})
			require.NoError(t, err)
			tt.check(t, c)
			for _, p := range read {
				assert.NotEqual(t, tt.env["POSTGRESQL_TLS_CERT_FILE"], p, "TLS paths must not be read as secrets")
			}
		})
	}
}

func TestSecretFileProblems(t *testing.T) {
	ve := loadProblems(t, map[string]string{
		"POSTGRES_PASSWORD":         "pw",
		"POSTGRES_PASSWORD_FILE":    "/run/secrets/pw",
		"POSTGRES_INITDB_ARGS_FILE": "/missing/args",
	}, files{"/run/secrets/pw": "other"}.read)
	require.Len(t, ve.Problems, 2)
	assert.Equal(t, Problem{Var: "POSTGRES_INITDB_ARGS_FILE", Value: "/missing/args", Message: "cannot read the secret file: open /missing/args: file does not exist"}, ve.Problems[0])
	assert.Equal(t, Problem{Var: "POSTGRES_PASSWORD", Value: Mask, Message: "both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set (but are exclusive)"}, ve.Problems[1])
}

func TestSecretVarsIsACopy(t *testing.T) {
	s := SecretVars()
	require.NotEmpty(t, s)
	assert.Equal(t, []string{"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS"}, s[:4])
	s[0] = "changed"
	assert.Equal(t, "POSTGRES_PASSWORD", SecretVars()[0])
}
