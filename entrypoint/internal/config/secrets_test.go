package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
		"/run/secrets/spaces": "  pw with spaces \n",
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
		{"only trailing newlines are stripped", map[string]string{"POSTGRES_PASSWORD_FILE": "/run/secrets/spaces", "PGBACKREST_REPO_GCS_KEY_FILE": "/run/secrets/multi"}, func(t *testing.T, c Config) {
			assert.Equal(t, "  pw with spaces ", c.Password)
			assert.Equal(t, "line1\nline2", c.Env["PGBACKREST_REPO_GCS_KEY"], "only passwords must be one line")
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

// TestBadSecretValues: a password initdb would cut (a line break anywhere
// but at the end of a file), a NUL byte, a value too long for PostgreSQL or
// an environment string; from a file or set directly, with the variable
// named, the value masked and nothing accepted.
func TestBadSecretValues(t *testing.T) {
	long := strings.Repeat("x", MaxSecretBytes+1)
	for _, tc := range []struct {
		name, file string // file: content of /s/f, used through <var>_FILE
		env        map[string]string
		wantVar    string
		want       string
	}{
		{"newline inside a password file", "first\nsecond\n", map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, "POSTGRES_PASSWORD_FILE", "single line"},
		{"two lines without a final newline", "first\nsecond", map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, "POSTGRES_PASSWORD_FILE", "single line"},
		{"windows line ending", "pw\r\n", map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, "POSTGRES_PASSWORD_FILE", "carriage return"},
		{"newline set directly", "", map[string]string{"POSTGRES_PASSWORD": "a\nb"}, "POSTGRES_PASSWORD", "single line"},
		{"trailing newline set directly", "", map[string]string{"POSTGRES_PASSWORD": "ab\n"}, "POSTGRES_PASSWORD", "single line"},
		{"carriage return set directly", "", map[string]string{"POSTGRES_PASSWORD": "a\rb"}, "POSTGRES_PASSWORD", "single line"},
		{"replication password", "r1\nr2", map[string]string{"REPLICATION_PASSWORD_FILE": "/s/f"}, "REPLICATION_PASSWORD_FILE", "single line"},
		{"legacy alias of a password", "", map[string]string{"PATRONI_SUPERUSER_PASSWORD": "a\nb"}, "PATRONI_SUPERUSER_PASSWORD", "single line"},
		{"NUL in a password file", "pw\x00tail", map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, "POSTGRES_PASSWORD_FILE", "NUL"},
		{"NUL in a user file", "app\x00", map[string]string{"POSTGRES_USER_FILE": "/s/f"}, "POSTGRES_USER_FILE", "NUL"},
		{"NUL in any secret file", "k\x00", map[string]string{"PGBACKREST_REPO_S3_KEY_FILE": "/s/f"}, "PGBACKREST_REPO_S3_KEY_FILE", "NUL"},
		{"too long from a file", long, map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, "POSTGRES_PASSWORD_FILE", "at most 65535 bytes"},
		{"too long set directly", "", map[string]string{"POSTGRES_PASSWORD": long}, "POSTGRES_PASSWORD", "at most 65535 bytes"},
		{"too long initdb args", long, map[string]string{"POSTGRES_INITDB_ARGS_FILE": "/s/f"}, "POSTGRES_INITDB_ARGS_FILE", "at most 65535 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ve := loadProblems(t, tc.env, files{"/s/f": tc.file}.read)
			require.NotEmpty(t, ve.Problems)
			p := ve.Problems[0]
			assert.Equal(t, tc.wantVar, p.Var)
			assert.Contains(t, p.Message, tc.want)
			assert.NotContains(t, ve.Error(), "second")
			assert.NotContains(t, ve.Error(), "xxxxxxxx", "no value is echoed")
		})
	}
}

// TestSecretFileEdgeCases: one trailing newline (or several, as the
// official image's $(< file)) is fine; the longest accepted value passes.
func TestSecretFileEdgeCases(t *testing.T) {
	max := strings.Repeat("y", MaxSecretBytes)
	for _, content := range []string{"pw\n", "pw\n\n", "pw", max + "\n", max} {
		c, err := Load(map[string]string{"POSTGRES_PASSWORD_FILE": "/s/f"}, files{"/s/f": content}.read)
		require.NoError(t, err, "%.20q", content)
		assert.Equal(t, strings.TrimRight(content, "\n"), c.Password)
	}
}

// TestReadSecretFileRefusesWhatIsNotAFile: a FIFO nobody writes to, a
// device that never ends, a directory, a socket and an oversized file are
// refused at once (the FIFO case would block forever with os.ReadFile); a
// symbolic link to a regular file is followed, as Kubernetes secrets need.
func TestReadSecretFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 1<<20), 0o600))
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer l.Close()
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("secret\n"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(plain, link))
	zeroLink := filepath.Join(dir, "zero")
	require.NoError(t, os.Symlink("/dev/zero", zeroLink))

	for _, tc := range []struct{ path, want string }{
		{fifo, "a FIFO"},
		{"/dev/zero", "a character device"},
		{zeroLink, "a character device"},
		{dir, "a directory"},
		{sock, ""}, // open(2) itself refuses a socket (ENXIO)
		{big, "longer than 65535 bytes"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadSecretFile(tc.path); done <- err }()
		select {
		case err := <-done:
			require.Error(t, err, tc.path)
			assert.Contains(t, err.Error(), tc.want, tc.path)
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadSecretFile(%s) did not return", tc.path)
		}
	}
	for _, p := range []string{plain, link} {
		b, err := ReadSecretFile(p)
		require.NoError(t, err)
		assert.Equal(t, "secret\n", string(b))
	}

	// Through Load (its default reader), naming the variable.
	ve := loadProblems(t, map[string]string{"POSTGRES_PASSWORD_FILE": fifo, "POSTGRES_USER_FILE": big}, nil)
	require.Len(t, ve.Problems, 2)
	assert.Equal(t, "POSTGRES_PASSWORD_FILE", ve.Problems[0].Var)
	assert.Contains(t, ve.Problems[0].Message, "not a regular file")
	assert.Equal(t, "POSTGRES_USER_FILE", ve.Problems[1].Var)
	assert.Contains(t, ve.Problems[1].Message, "too long")
}
