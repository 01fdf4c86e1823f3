package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsInitialised(t *testing.T) {
	d := t.TempDir()
	ok, err := IsInitialised(d)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, os.WriteFile(filepath.Join(d, "PG_VERSION"), nil, 0o600))
	ok, _ = IsInitialised(d)
	assert.False(t, ok, "an empty PG_VERSION is not initialised (official -s test)")
	require.NoError(t, os.WriteFile(filepath.Join(d, "PG_VERSION"), []byte("15\n"), 0o600))
	ok, _ = IsInitialised(d)
	assert.True(t, ok)
}

func TestCheckFirstBootEnv(t *testing.T) {
	assert.ErrorIs(t, CheckFirstBootEnv("", "scram-sha-256"), ErrMissingPassword)
	assert.NoError(t, CheckFirstBootEnv("", "trust"))
	assert.NoError(t, CheckFirstBootEnv("x", "md5"))
	assert.Contains(t, MissingPasswordMessage(), "Error: Database is uninitialized and superuser password is not specified.")
	assert.Contains(t, TrustWarning(), `POSTGRES_HOST_AUTH_METHOD has been set to "trust"`)
}

func TestAuthFlags(t *testing.T) {
	for _, tc := range []struct {
		name        string
		method      string
		args        []string
		local, host string
	}{
		{"default", "scram-sha-256", nil, "peer", "scram-sha-256"},
		{"md5", "md5", nil, "peer", "md5"},
		{"ldap falls back to scram on loopback", "ldap ldapserver=x", nil, "peer", "scram-sha-256"},
		{"trust keeps initdb's defaults", "trust", nil, "", ""},
		{"user chose --auth", "scram-sha-256", []string{"--auth=md5"}, "", ""},
		{"user chose -A", "scram-sha-256", []string{"-A", "md5"}, "", ""},
		{"user chose --auth-local", "scram-sha-256", []string{"--data-checksums", "--auth-local=trust"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, h := authFlags(Options{HostAuthMethod: tc.method, InitdbArgs: tc.args})
			assert.Equal(t, tc.local, l)
			assert.Equal(t, tc.host, h)
		})
	}
}

func TestIdentMap(t *testing.T) {
	m, err := identMap("app user")
	require.NoError(t, err)
	assert.Contains(t, string(m), `pgdock  root       "app user"`)
	assert.Contains(t, string(m), `pgdock  /^(.*)$     \1`)
	m, err = identMap(`we"ird`)
	assert.Error(t, err)
	assert.NotContains(t, string(m), "pgdock  root", "an unrepresentable role gets no mapping")
}

func TestMarker(t *testing.T) {
	d := t.TempDir()
	m, err := ReadMarker(d)
	require.NoError(t, err)
	assert.Nil(t, m)
	require.NoError(t, writeMarker(d, Marker{Step: StepScripts, Detail: "02.sql"}))
	m, err = ReadMarker(d)
	require.NoError(t, err)
	require.NotNil(t, m)
	assert.False(t, m.Redoable())
	assert.Contains(t, IncompleteError(d, *m).Error(), "init scripts (02.sql)")
	require.NoError(t, os.WriteFile(filepath.Join(d, MarkerName), []byte("{torn"), 0o600))
	m, _ = ReadMarker(d)
	assert.Equal(t, "unknown", m.Step)
	for _, s := range []string{StepInitdb, StepConfigure, StepTempStart, StepCreateDB} {
		assert.True(t, Marker{Step: s}.Redoable(), s)
	}
	for _, s := range []string{StepPlugins, StepScripts, StepTempStop, "unknown"} {
		assert.False(t, Marker{Step: s}.Redoable(), s)
	}
	require.NoError(t, removeMarker(d))
	m, _ = ReadMarker(d)
	assert.Nil(t, m)
}

func TestWipeKeepsTheDirectories(t *testing.T) {
	pg, wal := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(pg, "base", "1"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(wal, "000000010000000000000001"), []byte("x"), 0o600))
	require.NoError(t, Wipe(pg, wal))
	for _, d := range []string{pg, wal} {
		e, err := os.ReadDir(d)
		require.NoError(t, err)
		assert.Empty(t, e)
	}
	assert.NoError(t, Wipe(filepath.Join(pg, "gone"), ""))
}

func TestChildEnvAndScriptEnv(t *testing.T) {
	base := []string{"PATH=/bin", "NOTIFY_SOCKET=/x", "PGHOST=elsewhere", "POSTGRES_DB=old"}
	assert.Equal(t, []string{"PATH=/bin", "PGHOST=elsewhere", "POSTGRES_DB=old"}, childEnv(base, "NOTIFY_SOCKET"))
	env := strings.Join(scriptEnv(Options{Env: base, WorkDir: "/w", Port: 5, PGData: "/d", User: "u", DB: "db", Password: "pw"}), "\n")
	assert.Contains(t, env, "PGHOST=/w")
	assert.Contains(t, env, "POSTGRES_DB=db")
	assert.Contains(t, env, "PGPASSWORD=pw")
	assert.NotContains(t, env, "NOTIFY_SOCKET")
	assert.NotContains(t, env, "elsewhere")
}

func TestCheckEmpty(t *testing.T) {
	d := t.TempDir()
	assert.NoError(t, checkEmpty(d))
	assert.NoError(t, checkEmpty(filepath.Join(d, "missing")))
	require.NoError(t, os.WriteFile(filepath.Join(d, MarkerName), nil, 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(d, stagingName), 0o700))
	assert.NoError(t, checkEmpty(d), "an earlier attempt's marker and staging directory do not count")
	require.NoError(t, os.WriteFile(filepath.Join(d, "user-file"), nil, 0o600))
	assert.ErrorContains(t, checkEmpty(d), `exists but is not empty (it contains "user-file")`)
}

func TestMoveUp(t *testing.T) {
	pg := t.TempDir()
	staging := filepath.Join(pg, stagingName)
	require.NoError(t, os.MkdirAll(filepath.Join(staging, "global"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(staging, "PG_VERSION"), []byte("15\n"), 0o600))
	require.NoError(t, os.Symlink("/elsewhere/wal", filepath.Join(staging, "pg_wal")))
	require.NoError(t, os.Chmod(staging, 0o750)) // initdb --allow-group-access
	require.NoError(t, moveUp(staging, pg))
	entries, err := os.ReadDir(pg)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"PG_VERSION", "global", "pg_wal"}, names, "the staging directory is gone")
	target, err := os.Readlink(filepath.Join(pg, "pg_wal"))
	require.NoError(t, err)
	assert.Equal(t, "/elsewhere/wal", target)
	fi, err := os.Stat(pg)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), fi.Mode().Perm(), "PGDATA gets the mode initdb chose")
	assert.Error(t, moveUp(filepath.Join(pg, "nothing"), pg))
}

func TestCheckComplete(t *testing.T) {
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "PG_VERSION"), []byte("15\n"), 0o600))
	assert.ErrorContains(t, CheckComplete(d), "global/pg_control: its initdb did not finish")
	require.NoError(t, os.MkdirAll(filepath.Join(d, "global"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(d, "global", "pg_control"), nil, 0o600))
	assert.ErrorContains(t, CheckComplete(d), "global/pg_filenode.map")
	require.NoError(t, os.WriteFile(filepath.Join(d, "global", "pg_filenode.map"), nil, 0o600))
	assert.NoError(t, CheckComplete(d))
}
