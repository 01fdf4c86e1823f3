package pgbackrest

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var testServer = sdk.Server{PGData: "/var/lib/postgresql/data", Port: 5432, SocketDir: "/run/postgresql",
	Superuser: "postgres", FilesDir: "/run/pgdock/files/pgbackrest"}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func mustLoad(t *testing.T, env map[string]string) Config {
	t.Helper()
	c, problems := Load(env)
	require.Empty(t, problems)
	return c
}

func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
	}{
		{"posix.conf", map[string]string{"PGBACKREST_STANZA": "main"}},
		{"s3.conf", map[string]string{"PGBACKREST_REPO_TYPE": "s3", "PGBACKREST_REPO_S3_BUCKET": "backups", "PGBACKREST_REPO_S3_ENDPOINT": "s3.example.com",
			"PGBACKREST_REPO_S3_REGION": "eu-west-1", "PGBACKREST_REPO_S3_KEY": "AKIA", "PGBACKREST_REPO_S3_KEY_SECRET": "s3cr3t",
			"PGBACKREST_REPO_S3_URI_STYLE": "path", "PGBACKREST_REPO_S3_VERIFY_TLS": "false", "PGBACKREST_REPO_CIPHER_TYPE": "aes-256-cbc",
			"PGBACKREST_REPO_CIPHER_PASS": "pass phrase", "PGBACKREST_PROCESS_MAX": "4", "PGBACKREST_BACKUP_START_FAST": "no"}},
		{"gcs.conf", map[string]string{"PGBACKREST_REPO_TYPE": "gcs", "PGBACKREST_REPO_GCS_BUCKET": "b", "PGBACKREST_REPO_GCS_KEY": "/secrets/gcs.json"}},
		{"azure.conf", map[string]string{"PGBACKREST_REPO_TYPE": "azure", "PGBACKREST_REPO_AZURE_ACCOUNT": "acct", "PGBACKREST_REPO_AZURE_CONTAINER": "c",
			"PGBACKREST_REPO_AZURE_KEY": "a2V5", "PGBACKREST_REPO_PATH": "/pg"}},
		{"sftp.conf", map[string]string{"PGBACKREST_REPO_TYPE": "sftp", "PGBACKREST_REPO_SFTP_HOST": "backup.example.com", "PGBACKREST_REPO_SFTP_HOST_USER": "bk",
			"PGBACKREST_REPO_SFTP_PRIVATE_KEY_FILE": "/keys/id_ed25519", "PGBACKREST_REPO_SFTP_HOST_KEY_CHECK_TYPE": "none"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(mustLoad(t, tt.env), testServer)
			require.NoError(t, err)
			golden(t, tt.name, got)
		})
	}
}

func TestINIRefusesWhatItCannotWrite(t *testing.T) {
	for _, tt := range []struct{ section, key, value, want string }{
		{"global", "repo1-path", "/a\n[evil]\nx=y", "control character"},
		{"global", "repo1-path", "/a\x00", "control character"},
		{"global", "repo1-path", " /a", "blanks"},
		{"global", "repo1-path", "", "empty"},
		{"global", "Repo1_Path", "/a", "option name"},
		{"a]b", "k", "v", "section name"},
	} {
		var f INI
		f.Set(tt.section, tt.key, tt.value)
		_, err := f.Encode()
		require.Error(t, err, "%q=%q", tt.key, tt.value)
		assert.Contains(t, err.Error(), tt.want)
	}
	// a secret never reaches the message
	var f INI
	f.Set("global", "repo1-cipher-pass", "TOP\nSECRET")
	_, err := f.Encode()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	// twice the same key
	f = INI{}
	f.Set("global", "a", "1")
	f.Set("global", "a", "2")
	_, err = f.Encode()
	assert.ErrorContains(t, err, "set twice")
}

func TestRenderRefusesNewlineInValues(t *testing.T) {
	c := mustLoad(t, map[string]string{})
	c.RepoPath = "/repo\nrepo1-type=s3"
	_, err := Render(c, testServer)
	assert.ErrorContains(t, err, "repo1-path")
}

func TestArchiveCommandAndSettings(t *testing.T) {
	c := mustLoad(t, map[string]string{"PGBACKREST_STANZA": "main"})
	p := PathsFor("/run/pgdock/files/pgbackrest", "/usr/bin/pgbackrest")
	assert.Equal(t, `/usr/bin/env -i /usr/bin/pgbackrest --config=/run/pgdock/files/pgbackrest/pgbackrest.conf --stanza=main archive-push "%p"`, p.ArchiveCommand(c))
	assert.Equal(t, []sdk.Setting{{Name: "archive_mode", Value: "on"}, {Name: "archive_command", Value: p.ArchiveCommand(c)},
		{Name: "archive_timeout", Value: "1800s"}, {Name: "wal_level", Value: "replica"}}, p.Settings(c))
	// a path with a blank and a quote is quoted for the shell
	q := PathsFor("/run/my state/it's", "/usr/bin/pgbackrest")
	assert.Equal(t, `/usr/bin/env -i /usr/bin/pgbackrest '--config=/run/my state/it'\''s/pgbackrest.conf' --stanza=main archive-push "%p"`, q.ArchiveCommand(c))
	_, err := q.RestoreCommand(c)
	assert.ErrorContains(t, err, "PGDOCK_STATE_DIR")
	// archiving off: no settings at all
	c.ArchiveEnable = false
	assert.Empty(t, p.Settings(c))
}

func TestArgvAndEnv(t *testing.T) {
	p := PathsFor("/f", "/usr/bin/pgbackrest")
	c := mustLoad(t, map[string]string{"PGBACKREST_SCHEDULE_INCR": "*/15 * * * *", "PGBACKREST_BACKUP_TIMEOUT": "3600"})
	jobs := p.Jobs(c)
	require.Len(t, jobs, 3)
	for _, j := range jobs {
		assert.True(t, j.PrimaryOnly)
		assert.Equal(t, 3600, j.TimeoutSeconds)
		assert.Equal(t, ProcessEnv(), j.Env)
		assert.Equal(t, []string{"/usr/bin/pgbackrest", "--config=/f/pgbackrest.conf", "--stanza=default", "--log-level-console=info", "--type=" + j.Name, "backup"}, j.Argv)
	}
	assert.Equal(t, "", jobs[0].Schedule, "full: on demand only")
	assert.Equal(t, "*/15 * * * *", jobs[2].Schedule)
	for k := range ProcessEnv() {
		assert.False(t, strings.HasPrefix(k, "PGBACKREST_"), k)
	}

	c = mustLoad(t, map[string]string{"PGBACKREST_RESTORE": "true", "PGBACKREST_RESTORE_TYPE": "time", "PGBACKREST_RESTORE_TARGET": "2026-12-03T18:00:01.5+01:00"})
	argv, err := p.RestoreArgv(c, "/data/.staging")
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/bin/pgbackrest", "--config=/f/pgbackrest.conf", "--stanza=default", "--log-level-console=info", "--pg1-path=/data/.staging",
		"--type=time", "--target=2026-12-03 17:00:01.500000+00", "--target-action=promote",
		`--recovery-option=restore_command=/usr/bin/env -i /usr/bin/pgbackrest --config=/f/pgbackrest.conf --stanza=default archive-get %f "%p"`, "restore"}, argv)
	c = mustLoad(t, map[string]string{"PGBACKREST_RESTORE": "true"})
	argv, err = p.RestoreArgv(c, "/d")
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(argv, " "), "--type")
	assert.NotContains(t, strings.Join(argv, " "), "--target")
}

// TestRenderedOptionsAreKnownToPgbackrest: every option of every repository
// type is one the installed pgBackRest accepts in its configuration file.
func TestRenderedOptionsAreKnownToPgbackrest(t *testing.T) {
	bin := sdktest.NeedTool(t, "pgbackrest", "pgbackrest")
	for _, name := range []string{"posix.conf", "s3.conf", "gcs.conf", "azure.conf"} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conf := filepath.Join(t.TempDir(), "pgbackrest.conf")
			data, err := os.ReadFile(filepath.Join("testdata", name))
			require.NoError(t, err)
			// point every network repository at a closed local port
			data = []byte(strings.NewReplacer("s3.example.com", "127.0.0.1", "lock-path=/run/pgdock/files/pgbackrest/lock", "lock-path="+t.TempDir()).Replace(string(data)))
			if name == "posix.conf" {
				data = []byte(strings.Replace(string(data), "repo1-path=/var/lib/pgbackrest", "repo1-path="+t.TempDir(), 1))
			}
			require.NoError(t, os.WriteFile(conf, data, 0o600))
			cmd := exec.CommandContext(ctx, bin, "--config="+conf, "--log-level-console=warn", "--io-timeout=1", "info")
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, _ := cmd.CombinedOutput()
			assert.NotContains(t, string(out), "invalid option", string(out))
			assert.NotContains(t, string(out), "is not valid", string(out))
			assert.NotContains(t, string(out), "[031]", string(out)) // option error
			assert.NotContains(t, string(out), "[032]", string(out))
		})
	}
}

func TestWebIdentityReachesPgbackrest(t *testing.T) {
	env := map[string]string{"PGBACKREST_REPO_TYPE": "s3", "PGBACKREST_REPO_S3_BUCKET": "b", "PGBACKREST_REPO_S3_ENDPOINT": "s3.amazonaws.com",
		"PGBACKREST_REPO_S3_REGION": "eu-west-1", "PGBACKREST_REPO_S3_KEY_TYPE": "web-id"}
	_, problems := Load(env)
	assert.Equal(t, []string{"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"}, problemVars(problems))
	env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/backup"
	env["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
	c := mustLoad(t, env)
	p := PathsFor("/f", "/usr/bin/pgbackrest")
	assert.Equal(t, `/usr/bin/env -i AWS_ROLE_ARN=arn:aws:iam::123456789012:role/backup AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token /usr/bin/pgbackrest --config=/f/pgbackrest.conf --stanza=default archive-push "%p"`, p.ArchiveCommand(c))
	assert.Equal(t, env["AWS_ROLE_ARN"], p.Jobs(c)[0].Env["AWS_ROLE_ARN"])
	assert.Equal(t, env["AWS_WEB_IDENTITY_TOKEN_FILE"], c.Env()["AWS_WEB_IDENTITY_TOKEN_FILE"])
	// not with other key types
	delete(env, "PGBACKREST_REPO_S3_KEY_TYPE")
	env["PGBACKREST_REPO_S3_KEY"], env["PGBACKREST_REPO_S3_KEY_SECRET"] = "k", "s"
	c = mustLoad(t, env)
	assert.NotContains(t, c.Env(), "AWS_ROLE_ARN")
}
