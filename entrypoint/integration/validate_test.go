package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateRefusesWhatAStartRefuses: for every bad input, `config
// validate` and a real start both exit 1 naming the variable, and neither
// creates PGDATA or the state directory; nothing hangs (a FIFO secret, an
// endless device).
func TestValidateRefusesWhatAStartRefuses(t *testing.T) {
	secretDir := t.TempDir()
	file := func(name string, content []byte) string {
		p := filepath.Join(secretDir, name)
		require.NoError(t, os.WriteFile(p, content, 0o600))
		return p
	}
	fifo := filepath.Join(secretDir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	badSums, err := os.MkdirTemp("", "pgd-plugins-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(badSums) })
	require.NoError(t, os.Chmod(badSums, 0o755))
	copyPluginFile(t, filepath.Join(pluginDir, "pgdock-plugin-example"), filepath.Join(badSums, "pgdock-plugin-example"), 0o755)
	require.NoError(t, os.WriteFile(filepath.Join(badSums, "SHA256SUMS"), []byte(strings.Repeat("0", 64)+"  pgdock-plugin-example\n"), 0o644))
	emptyPlugins, err := os.MkdirTemp("", "pgd-plugins-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(emptyPlugins) })
	require.NoError(t, os.Chmod(emptyPlugins, 0o755))

	tests := []struct {
		name  string
		env   []string // key, value pairs on top of a valid first-boot environment
		unset []string
		want  []string // in the output of both
	}{
		{name: "no password for an empty PGDATA", unset: []string{"POSTGRES_PASSWORD"}, want: []string{"superuser password is not specified"}},
		{name: "unknown parameter", env: []string{"POSTGRESQL_CONFIG_SHARED_BUFERS", "128MB"}, want: []string{"POSTGRESQL_CONFIG_SHARED_BUFERS", "did you mean shared_buffers?"}},
		{name: "bad unit", env: []string{"POSTGRESQL_CONFIG_SHARED_BUFFERS", "64XB"}, want: []string{"POSTGRESQL_CONFIG_SHARED_BUFFERS", "Valid units for this parameter"}},
		{name: "below the minimum through a named variable", env: []string{"POSTGRESQL_SHARED_BUFFERS", "0"}, want: []string{"POSTGRESQL_SHARED_BUFFERS", "outside the valid range"}},
		{name: "bad enum value", env: []string{"POSTGRESQL_CONFIG_WAL_LEVEL", "maximal"}, want: []string{"POSTGRESQL_CONFIG_WAL_LEVEL", "minimal, replica, logical"}},
		{name: "bad boolean", env: []string{"POSTGRESQL_CONFIG_JIT", "sometimes"}, want: []string{"POSTGRESQL_CONFIG_JIT", "Boolean"}},
		{name: "bad time zone", env: []string{"POSTGRESQL_TIMEZONE", "Mars/Olympus_Mons"}, want: []string{"POSTGRESQL_TIMEZONE"}},
		{name: "internal parameter", env: []string{"POSTGRESQL_CONFIG_BLOCK_SIZE", "16384"}, want: []string{"POSTGRESQL_CONFIG_BLOCK_SIZE", "cannot be changed"}},
		{name: "multi-line password", env: []string{"POSTGRES_PASSWORD", "first\nsecond"}, want: []string{"POSTGRES_PASSWORD", "single line"}},
		{name: "multi-line password file", env: []string{"POSTGRES_PASSWORD_FILE", file("two-lines", []byte("first\nsecond\n"))}, unset: []string{"POSTGRES_PASSWORD"}, want: []string{"POSTGRES_PASSWORD_FILE", "single line"}},
		{name: "NUL in a password file", env: []string{"POSTGRES_PASSWORD_FILE", file("nul", []byte("pw\x00x"))}, unset: []string{"POSTGRES_PASSWORD"}, want: []string{"POSTGRES_PASSWORD_FILE", "NUL"}},
		{name: "1 MB password file", env: []string{"POSTGRES_PASSWORD_FILE", file("big", make([]byte, 1<<20))}, unset: []string{"POSTGRES_PASSWORD"}, want: []string{"POSTGRES_PASSWORD_FILE", "too long"}},
		{name: "FIFO password file", env: []string{"POSTGRES_PASSWORD_FILE", fifo}, unset: []string{"POSTGRES_PASSWORD"}, want: []string{"POSTGRES_PASSWORD_FILE", "FIFO"}},
		{name: "device password file", env: []string{"POSTGRES_PASSWORD_FILE", "/dev/zero"}, unset: []string{"POSTGRES_PASSWORD"}, want: []string{"POSTGRES_PASSWORD_FILE", "character device"}},
		{name: "NUL in a user file", env: []string{"POSTGRES_USER_FILE", file("user", []byte("app\x00"))}, want: []string{"POSTGRES_USER_FILE", "NUL"}},
		{name: "state dir /etc", env: []string{"PGDOCK_STATE_DIR", "/etc"}, want: []string{"PGDOCK_STATE_DIR", "/etc is a system directory"}},
		{name: "state dir /./etc", env: []string{"PGDOCK_STATE_DIR", "/./etc"}, want: []string{"PGDOCK_STATE_DIR", "/etc is a system directory"}},
		{name: "state dir /tmp/", env: []string{"PGDOCK_STATE_DIR", "/tmp/"}, want: []string{"PGDOCK_STATE_DIR", "/tmp is shared by every user"}},
		{name: "state dir /", env: []string{"PGDOCK_STATE_DIR", "/"}, want: []string{"PGDOCK_STATE_DIR", "/ is a system directory"}},
		{name: "socket dir //usr", env: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "//usr"}, want: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/usr is a system directory"}},
		{name: "second socket dir /run", env: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/tmp,/run"}, want: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/run is a system directory"}},
		{name: "socket dir /var/lib", env: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/var/lib"}, want: []string{"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "/var/lib is a system directory"}},
		{name: "plugin missing", env: []string{"EXAMPLE_ENABLE", "true", "PGDOCK_PLUGIN_DIR", emptyPlugins}, want: []string{"pgdock-plugin-example is not in the plugin directory"}},
		{name: "plugin checksum mismatch", env: []string{"EXAMPLE_ENABLE", "true", "PGDOCK_PLUGIN_DIR", badSums}, want: []string{"checksum"}},
		{name: "plugin's own validation", env: []string{"EXAMPLE_ENABLE", "true", "PGDOCK_PLUGIN_DIR", pluginDir, "EXAMPLE_GREETING", strings.Repeat("x", 65)}, want: []string{"EXAMPLE_GREETING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSite(t).set("POSTGRES_PASSWORD", "pw-must-not-show").set(tt.env...).unset(tt.unset...)
			for _, args := range [][]string{{"config", "validate"}, nil} {
				p := s.start(args...)
				code := p.wait(30 * time.Second)
				out := p.out.String()
				assert.Equal(t, 1, code, "%q exit code; output:\n%s", args, out)
				for _, w := range tt.want {
					assert.Contains(t, out, w, "%q", args)
				}
				assert.NotContains(t, out, "configuration is valid", "%q", args)
				assert.NotContains(t, out, "pw-must-not-show", "%q: no password in the output", args)
				assert.NotContains(t, out, "second", "%q: no part of a password in the output", args)
				assert.NoFileExists(t, filepath.Join(s.PGData, "PG_VERSION"), "%q", args)
				if !strings.HasPrefix(tt.name, "plugin") { // plugins are checked after the directories are made
					assert.NoDirExists(t, s.PGData, "%q: PGDATA must not be created", args)
					assert.NoDirExists(t, s.State, "%q: the state directory must not be created", args)
				}
			}
		})
	}
}

// TestValidateAcceptsWhatAStartAccepts: custom dotted parameters, settings
// PostgreSQL accepts, a password file with one trailing newline and a
// shared sticky socket directory pass `config validate`.
func TestValidateAcceptsWhatAStartAccepts(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("secret\n"), 0o600))
	s := newSite(t).set("POSTGRES_PASSWORD_FILE", pw, "POSTGRESQL_CONFIG_CRON__DATABASE_NAME", "app",
		"POSTGRESQL_CONFIG_SHARED_BUFFERS", "64MB", "POSTGRESQL_CONFIG_WAL_LEVEL", "logical", "POSTGRESQL_TIMEZONE", "Europe/Berlin",
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", s0(t)+",/tmp", "PG_HBA_ADD_1", "host all all 10.0.0.0/8 scram-sha-256")
	code, out := s.run("config", "validate")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "configuration is valid")
	assert.NoDirExists(t, s.PGData)
}

func s0(t *testing.T) string {
	d, err := os.MkdirTemp("", "pgd-sock-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	require.NoError(t, os.Chmod(d, 0o777))
	return d
}

// TestLongStateDirAndLogForgery: a state directory far longer than a Unix
// socket path may be (a checkout deep in a home directory) works with a
// plugin (its sockets and the bootstrap socket go to a short private
// directory), the healthcheck still reaches the plugin; an init script
// whose name holds a newline cannot forge a log line; then a restart with a
// setting PostgreSQL refuses exits 1 naming the variable, and PGDATA is left
// exactly as it was.
func TestLongStateDirAndLogForgery(t *testing.T) {
	s := newSite(t)
	long := filepath.Join(s.base, strings.Repeat("a-very-long-directory-name-for-testing/", 3), "checkout", ".run", "state")
	require.Greater(t, len(long), 120)
	require.NoError(t, os.MkdirAll(filepath.Dir(long), 0o755))
	forged := "[2026-01-01T00:00:00Z] [ERROR] FORGED"
	s.script("01-ok.sql\n"+forged+".sql", "CREATE TABLE forged_name_ran (n int);", 0o644)
	s.withExample("POSTGRES_PASSWORD", "secret", "PGDOCK_STATE_DIR", long)
	p := s.start()
	p.ready()
	out := p.out.String()
	for _, line := range strings.Split(out, "\n") {
		assert.False(t, strings.HasPrefix(line, forged), "a forged log line: %q", line)
	}
	assert.Contains(t, out, `01-ok.sql\n`+forged, "the name is shown, escaped")
	assert.Equal(t, "0", s.query("postgres", "secret", "postgres", "SELECT count(*)::text FROM forged_name_ran"))

	s.State = long
	st := s.readState(t)
	require.Len(t, st.Plugins, 1)
	sock := st.Plugins[0].Reattach.Address
	assert.Less(t, len(sock), 108, "a usable socket path")
	assert.False(t, strings.HasPrefix(sock, long), "the socket is not under the long state directory")
	code, hc := s.health("readiness")
	assert.Equal(t, 0, code, hc)
	assert.Contains(t, hc, "plugins healthy: example", "the healthcheck reached the plugin's socket")

	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(30*time.Second))
	assert.NoDirExists(t, filepath.Dir(filepath.Dir(sock)), "the private socket directory is removed at exit")

	before := treeState(t, s.PGData)
	s.set("POSTGRESQL_CONFIG_MAX_CONNECTIONS", "lots")
	code, out = s.run()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "POSTGRESQL_CONFIG_MAX_CONNECTIONS")
	assert.Equal(t, before, treeState(t, s.PGData), "PGDATA unchanged")
	code, out = s.run("config", "validate")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "POSTGRESQL_CONFIG_MAX_CONNECTIONS")
}

// treeState lists every entry under root with its mode, owner, size and
// modification time.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		out[p] = fmt.Sprintf("%v %d:%d %d %d", fi.Mode(), st.Uid, st.Gid, fi.Size(), fi.ModTime().UnixNano())
		return nil
	}))
	return out
}
