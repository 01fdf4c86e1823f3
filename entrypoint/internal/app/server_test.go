package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The server's environment keeps everything but pgdock's secrets.
func TestServerEnvDropsSecrets(t *testing.T) {
	env := map[string]string{
		"PATH":                                  "/bin",
		"PGDATA":                                "/d",
		"POSTGRES_USER":                         "app",
		"POSTGRES_PASSWORD":                     "pw",
		"REPLICATION_PASSWORD":                  "r",
		"PGBACKREST_REPO_CIPHER_PASS":           "c",
		"PGPASSWORD":                            "p",
		"MY_API_TOKEN":                          "t",
		"POSTGRESQL_CONFIG_PASSWORD_ENCRYPTION": "scram-sha-256",
	}
	assert.Equal(t, []string{"PATH=/bin", "PGDATA=/d", "POSTGRESQL_CONFIG_PASSWORD_ENCRYPTION=scram-sha-256", "POSTGRES_USER=app"}, serverEnv(env))
}
