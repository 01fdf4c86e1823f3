package pgbackrest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func problemVars(ps []sdk.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Var)
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	c, problems := Load(map[string]string{"PGBACKREST_ENABLE": "true"})
	require.Empty(t, problems)
	assert.Equal(t, "default", c.Stanza)
	assert.Equal(t, RepoPosix, c.RepoType)
	assert.Equal(t, "/var/lib/pgbackrest", c.RepoPath)
	assert.Equal(t, 2, c.RetentionFull)
	assert.Equal(t, 6, c.RetentionDiff)
	assert.True(t, c.ArchiveEnable)
	assert.Equal(t, "1800s", c.ArchiveTimeout)
	assert.Empty(t, c.Schedules)
	assert.False(t, c.Restore)
	assert.False(t, c.StanzaCreateFatal)
	assert.True(t, c.StartFast)
	assert.Equal(t, "lz4", c.CompressType)
	assert.Equal(t, -1, c.CompressLevel)
	assert.Equal(t, 0, c.ProcessMax, "Configure makes it the number of CPUs")
}

func TestLoadTable(t *testing.T) {
	s3 := map[string]string{"PGBACKREST_REPO_TYPE": "s3", "PGBACKREST_REPO_S3_BUCKET": "b", "PGBACKREST_REPO_S3_ENDPOINT": "s3.example.com",
		"PGBACKREST_REPO_S3_REGION": "eu", "PGBACKREST_REPO_S3_KEY": "k", "PGBACKREST_REPO_S3_KEY_SECRET": "TOPSECRET"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name  string
		env   map[string]string
		vars  []string // variables with a problem, in order; nil = valid
		check func(t *testing.T, c Config)
	}{
		{"unknown repo type", with(nil, "PGBACKREST_REPO_TYPE", "ftp"), []string{"PGBACKREST_REPO_TYPE"}, nil},
		{"filesystem is posix", with(nil, "PGBACKREST_REPO_TYPE", "filesystem"), nil, func(t *testing.T, c Config) { assert.Equal(t, RepoPosix, c.RepoType) }},
		{"s3 complete", s3, nil, func(t *testing.T, c Config) {
			assert.Equal(t, "/pgbackrest", c.RepoPath)
			assert.Contains(t, c.RepoOptions, [2]string{"repo1-s3-bucket", "b"})
		}},
		{"s3 without bucket", with(s3, "PGBACKREST_REPO_S3_BUCKET", ""), []string{"PGBACKREST_REPO_S3_BUCKET"}, nil},
		{"s3 without keys", with(s3, "PGBACKREST_REPO_S3_KEY", "", "PGBACKREST_REPO_S3_KEY_SECRET", ""), []string{"PGBACKREST_REPO_S3_KEY", "PGBACKREST_REPO_S3_KEY_SECRET"}, nil},
		{"s3 auto keys", with(s3, "PGBACKREST_REPO_S3_KEY", "", "PGBACKREST_REPO_S3_KEY_SECRET", "", "PGBACKREST_REPO_S3_KEY_TYPE", "auto"), nil, nil},
		{"s3 verify tls bool", with(s3, "PGBACKREST_REPO_S3_VERIFY_TLS", "off"), nil, func(t *testing.T, c Config) {
			assert.Contains(t, c.RepoOptions, [2]string{"repo1-storage-verify-tls", "n"})
		}},
		{"s3 bad port", with(s3, "PGBACKREST_REPO_S3_PORT", "99999"), []string{"PGBACKREST_REPO_S3_PORT"}, nil},
		{"s3 option on posix", with(nil, "PGBACKREST_REPO_S3_BUCKET", "b"), []string{"PGBACKREST_REPO_S3_BUCKET"}, nil},
		{"gcs needs bucket and key", with(nil, "PGBACKREST_REPO_TYPE", "gcs"), []string{"PGBACKREST_REPO_GCS_BUCKET", "PGBACKREST_REPO_GCS_KEY"}, nil},
		{"azure", with(nil, "PGBACKREST_REPO_TYPE", "azure", "PGBACKREST_REPO_AZURE_ACCOUNT", "a", "PGBACKREST_REPO_AZURE_CONTAINER", "c", "PGBACKREST_REPO_AZURE_KEY", "k"), nil, nil},
		{"sftp needs host", with(nil, "PGBACKREST_REPO_TYPE", "sftp", "PGBACKREST_REPO_SFTP_HOST_USER", "bk", "PGBACKREST_REPO_SFTP_PRIVATE_KEY_FILE", "/k"), []string{"PGBACKREST_REPO_SFTP_HOST"}, func(t *testing.T, c Config) {
			assert.Equal(t, "/home/bk/pgbackrest", c.RepoPath)
		}},
		{"relative repo path", with(nil, "PGBACKREST_REPO_PATH", "repo"), []string{"PGBACKREST_REPO_PATH"}, nil},
		{"bad stanza", with(nil, "PGBACKREST_STANZA", "a b"), []string{"PGBACKREST_STANZA"}, nil},
		{"retention", with(nil, "PGBACKREST_REPO_RETENTION_FULL", "0", "PGBACKREST_REPO_RETENTION_DIFF", "x"), []string{"PGBACKREST_REPO_RETENTION_FULL", "PGBACKREST_REPO_RETENTION_DIFF"}, nil},
		{"cipher without pass", with(nil, "PGBACKREST_REPO_CIPHER_TYPE", "aes-256-cbc"), []string{"PGBACKREST_REPO_CIPHER_PASS"}, nil},
		{"pass without cipher", with(nil, "PGBACKREST_REPO_CIPHER_PASS", "x"), []string{"PGBACKREST_REPO_CIPHER_PASS"}, nil},
		{"cipher", with(nil, "PGBACKREST_REPO_CIPHER_TYPE", "AES-256-CBC", "PGBACKREST_REPO_CIPHER_PASS", "x"), nil, func(t *testing.T, c Config) {
			assert.Equal(t, "aes-256-cbc", c.CipherType)
		}},
		{"malformed cron", with(nil, "PGBACKREST_SCHEDULE_FULL", "61 * * * *", "PGBACKREST_SCHEDULE_INCR", "* * * *"), []string{"PGBACKREST_SCHEDULE_FULL", "PGBACKREST_SCHEDULE_INCR"}, nil},
		{"schedules", with(nil, "PGBACKREST_SCHEDULE_FULL", "0 2 * * 0", "PGBACKREST_SCHEDULE_DIFF", "@daily", "PGBACKREST_SCHEDULE_INCR", "@every 15m"), nil, func(t *testing.T, c Config) {
			assert.Equal(t, map[string]string{"full": "0 2 * * 0", "diff": "@daily", "incr": "@every 15m"}, c.Schedules)
		}},
		{"legacy auto enable", with(nil, "PGBACKREST_AUTO_ENABLE", "yes"), nil, func(t *testing.T, c Config) {
			assert.Equal(t, map[string]string{"full": legacyFullCron, "diff": legacyDiffCron, "incr": legacyIncrCron}, c.Schedules)
		}},
		{"legacy auto enable with a schedule", with(nil, "PGBACKREST_AUTO_ENABLE", "true", "PGBACKREST_SCHEDULE_FULL", "@weekly"), nil, func(t *testing.T, c Config) {
			assert.Equal(t, map[string]string{"full": "@weekly"}, c.Schedules)
		}},
		{"archive timeout", with(nil, "ARCHIVE_TIMEOUT", "60s"), nil, func(t *testing.T, c Config) { assert.Equal(t, "60s", c.ArchiveTimeout) }},
		{"archive timeout both differ", with(nil, "ARCHIVE_TIMEOUT", "60s", "PGBACKREST_ARCHIVE_TIMEOUT", "30s"), []string{"PGBACKREST_ARCHIVE_TIMEOUT"}, nil},
		{"archive timeout bad", with(nil, "PGBACKREST_ARCHIVE_TIMEOUT", "soon"), []string{"PGBACKREST_ARCHIVE_TIMEOUT"}, nil},
		{"bad booleans", with(nil, "PGBACKREST_ARCHIVE_ENABLE", "maybe", "PGBACKREST_RESTORE", "sure", "PGBACKREST_ENABLE", "y1"), []string{"PGBACKREST_ENABLE", "PGBACKREST_ARCHIVE_ENABLE", "PGBACKREST_RESTORE"}, nil},
		{"restore time needs target", with(nil, "PGBACKREST_RESTORE", "true", "PGBACKREST_RESTORE_TYPE", "time"), []string{"PGBACKREST_RESTORE_TARGET"}, nil},
		{"restore target without type", with(nil, "PGBACKREST_RESTORE_TARGET", "x"), []string{"PGBACKREST_RESTORE_TARGET"}, nil},
		{"restore bad time", with(nil, "PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", "yesterday"), []string{"PGBACKREST_RESTORE_TARGET"}, nil},
		{"restore bad type", with(nil, "PGBACKREST_RESTORE_TYPE", "latest"), []string{"PGBACKREST_RESTORE_TYPE"}, nil},
		{"restore action without pitr", with(nil, "PGBACKREST_RESTORE_TARGET_ACTION", "pause"), []string{"PGBACKREST_RESTORE_TARGET_ACTION"}, nil},
		{"restore pitr", with(nil, "PGBACKREST_RESTORE", "on", "PGBACKREST_RESTORE_TYPE", "time", "PGBACKREST_RESTORE_TARGET", "2026-12-03 18:00:00+00", "PGBACKREST_RESTORE_TARGET_ACTION", "pause"), nil, func(t *testing.T, c Config) {
			assert.True(t, c.Restore)
			assert.Equal(t, "pause", c.restoreAction())
		}},
		{"compression", with(nil, "PGBACKREST_COMPRESS_TYPE", "ZST", "PGBACKREST_COMPRESS_LEVEL", "3"), nil, func(t *testing.T, c Config) {
			assert.Equal(t, "zst", c.CompressType)
			assert.Equal(t, 3, c.CompressLevel)
		}},
		{"bad compression", with(nil, "PGBACKREST_COMPRESS_TYPE", "xz", "PGBACKREST_COMPRESS_LEVEL", "99"), []string{"PGBACKREST_COMPRESS_TYPE", "PGBACKREST_COMPRESS_LEVEL"}, nil},
		{"restore set", with(nil, "PGBACKREST_RESTORE_SET", "20261203-184522F"), nil, nil},
		{"restore bad set", with(nil, "PGBACKREST_RESTORE_SET", "../x"), []string{"PGBACKREST_RESTORE_SET"}, nil},
		{"unknown variable", with(nil, "PGBACKREST_REPO_S3_STORAGE_CLASS", "x", "PGBACKREST_FOO", "1"), []string{"PGBACKREST_FOO", "PGBACKREST_REPO_S3_STORAGE_CLASS"}, nil},
		{"ignored legacy", with(nil, "PGBACKREST_PASSWORD", "x", "PGBACKREST_AUTO_TIMEZONE", "UTC"), nil, func(t *testing.T, c Config) {
			assert.ElementsMatch(t, []string{"PGBACKREST_PASSWORD", "PGBACKREST_AUTO_TIMEZONE"}, c.Ignored)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, problems := Load(tt.env)
			assert.Equal(t, tt.vars, problemVars(problems), "%v", problems)
			for _, p := range problems {
				assert.NotContains(t, p.Message, "TOPSECRET")
				assert.NotEmpty(t, p.Message)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestMessagesNameWhatIsAccepted(t *testing.T) {
	_, problems := Load(map[string]string{"PGBACKREST_REPO_TYPE": "ftp", "PGBACKREST_SCHEDULE_DIFF": "every day"})
	require.Len(t, problems, 2)
	assert.Contains(t, problems[0].Message, "posix, filesystem, s3, gcs, azure, sftp")
	assert.True(t, strings.Contains(problems[1].Message, "5 cron fields"), problems[1].Message)
}
