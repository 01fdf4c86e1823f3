package config

import (
	"testing"

	"github.com/mattn/go-shellwords"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedacted(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"POSTGRES_PASSWORD":            "pw-secret",
		"POSTGRES_INITDB_ARGS":         `--data-checksums "--icu-locale=de DE" --x='it'"'"'s'`,
		"REPLICATION_PASSWORD":         "repl-secret",
		"PGBACKREST_REPO_S3_KEY":       "s3-secret",
		"PGBACKREST_REPO_S3_BUCKET":    "bucket",
		"PATRONI_SCOPE":                "demo",
		"PG_HBA_ADD_1":                 "host all all all ldap ldapbasedn=dc=x ldapbindpasswd=ldap-secret",
		"PG_HBA_ADD_2":                 "host all all 10.0.0.0/8 md5",
		"POSTGRESQL_CONFIG_WORK_MEM":   "8MB",
		"HOME":                         "/root",
		"AWS_SECRET_ACCESS_KEY":        "aws-secret",
		"PGPASSWORD":                   "pgpass-secret",
		"POSTGRESQL_LOG_DURATION":      "yes",
		"POSTGRESQL_TLS_CERT_FILE":     "/tls/c",
		"POSTGRESQL_TLS_KEY_FILE":      "/tls/k",
		"PATRONI_REPLICATION_PASSWORD": "repl-secret",
	})
	m := Redacted(c)
	for k, v := range m {
		assert.NotContains(t, v, "secret", k)
	}
	assert.Equal(t, Mask, m["POSTGRES_PASSWORD"])
	assert.Equal(t, Mask, m["REPLICATION_PASSWORD"])
	assert.Equal(t, Mask, m["PGBACKREST_REPO_S3_KEY"])
	assert.Equal(t, Mask, m["PGPASSWORD"])
	assert.Equal(t, Mask, m["PG_HBA_ADD_1"])
	assert.Equal(t, "host all all 10.0.0.0/8 md5", m["PG_HBA_ADD_2"])
	assert.Equal(t, "bucket", m["PGBACKREST_REPO_S3_BUCKET"])
	assert.Equal(t, "demo", m["PATRONI_SCOPE"])
	assert.Equal(t, "8MB", m["POSTGRESQL_CONFIG_WORK_MEM"])
	assert.Equal(t, "on", m["POSTGRESQL_LOG_DURATION"])
	assert.Equal(t, "*", m["POSTGRESQL_LISTEN_ADDRESSES"])
	assert.Equal(t, "5432", m["PGPORT"])
	assert.Equal(t, "30", m["TIMEOUT"])
	assert.Equal(t, "true", m["EXTERNAL_ACCESS_ENABLE"])
	assert.Equal(t, "/tls/c", m["POSTGRESQL_TLS_CERT_FILE"])
	assert.Equal(t, "", m["POSTGRES_INITDB_WALDIR"], "unset variables are listed empty")
	assert.NotContains(t, m, "HOME", "unrelated environment is not rendered")
	assert.NotContains(t, m, "AWS_SECRET_ACCESS_KEY")
	assert.NotContains(t, m, "PATRONI_REPLICATION_PASSWORD", "legacy names are rendered under their new name")

	args, err := shellwords.Parse(m["POSTGRES_INITDB_ARGS"])
	require.NoError(t, err)
	assert.Equal(t, c.InitdbArgs, args, "rendered initdb arguments split back into the same words")
	assert.Equal(t, []string{"--data-checksums", "--icu-locale=de DE", "--x=it's"}, args)
}

func TestRedactedDefaults(t *testing.T) {
	m := Redacted(Defaults())
	assert.Equal(t, "", m["POSTGRES_PASSWORD"], "an unset password renders empty, not masked")
	assert.Equal(t, "postgres", m["POSTGRES_USER"])
	assert.Equal(t, "/var/lib/postgresql/data", m["PGDATA"])
	assert.Equal(t, "/var/run/postgresql", m["POSTGRESQL_UNIX_SOCKET_DIRECTORIES"])
}
