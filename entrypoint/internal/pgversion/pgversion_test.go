package pgversion

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Major
	}{
		{"13", 13}, {"15\n", 15}, {" 18 ", 18}, {"9.6", 906}, {"9.4", 904},
		{"15.20", 15}, {"17.2", 17}, {"18beta1", 18}, {"18rc1", 18}, {"19devel", 19}, {"9.6.24", 906},
	} {
		got, err := Parse(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "x", "9", "0", "15a", "-1", "1 5", "9.100"} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}

func TestString(t *testing.T) {
	assert.Equal(t, "15", Major(15).String())
	assert.Equal(t, "9.6", Major(906).String())
	assert.Equal(t, "unknown", Major(0).String())
}

func TestParseServerVersion(t *testing.T) {
	for out, want := range map[string]Major{
		"postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n": 15,
		"postgres (PostgreSQL) 13.22 (Debian 13.22-0+deb11u1)":   13,
		"postgres (PostgreSQL) 18.1":                             18,
		"postgres (PostgreSQL) 18beta2":                          18,
	} {
		got, err := ParseServerVersion(out)
		require.NoError(t, err, out)
		assert.Equal(t, want, got, out)
	}
	_, err := ParseServerVersion("bash: postgres: not found")
	assert.ErrorContains(t, err, "not \"postgres (PostgreSQL) <version>\"")
}

func writeVersion(t *testing.T, content string) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte(content), 0o600))
	return dir
}

func TestFromDataDir(t *testing.T) {
	m, err := FromDataDir(writeVersion(t, "13\n"))
	require.NoError(t, err)
	assert.Equal(t, Major(13), m)

	_, err = FromDataDir(t.TempDir())
	assert.ErrorIs(t, err, ErrNoVersion)
	_, err = FromDataDir(writeVersion(t, "\n"))
	assert.ErrorIs(t, err, ErrNoVersion)
	_, err = FromDataDir(writeVersion(t, "garbage"))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrNoVersion))
}

func TestFromBinDirDebianLayout(t *testing.T) {
	// No postgres there: the path alone answers, nothing is run.
	m, err := FromBinDir(context.Background(), "/nonexistent/usr/lib/postgresql/17/bin")
	require.NoError(t, err)
	assert.Equal(t, Major(17), m)
	_, err = FromBinDir(context.Background(), t.TempDir())
	assert.Error(t, err, "not the Debian layout and no postgres to ask")
}

func TestFromServerReal(t *testing.T) {
	const bin = "/usr/lib/postgresql/15/bin/postgres"
	if _, err := os.Stat(bin); err != nil {
		prereq.Missing(t, "no PostgreSQL 15 at "+bin+" (run `make deps`)")
	}
	m, err := FromServer(context.Background(), bin)
	require.NoError(t, err)
	assert.Equal(t, Major(15), m)
}

func TestFacts(t *testing.T) {
	for _, tc := range []struct {
		m                Major
		walKeep          string
		checksums        bool
		pgdata, volume   string
		walParam, walVal string
	}{
		{906, "wal_keep_segments", false, "/var/lib/postgresql/data", "/var/lib/postgresql/data", "wal_keep_segments", "8"},
		{12, "wal_keep_segments", false, "/var/lib/postgresql/data", "/var/lib/postgresql/data", "wal_keep_segments", "8"},
		{13, "wal_keep_size", false, "/var/lib/postgresql/data", "/var/lib/postgresql/data", "wal_keep_size", "128MB"},
		{15, "wal_keep_size", false, "/var/lib/postgresql/data", "/var/lib/postgresql/data", "wal_keep_size", "128MB"},
		{17, "wal_keep_size", false, "/var/lib/postgresql/data", "/var/lib/postgresql/data", "wal_keep_size", "128MB"},
		{18, "wal_keep_size", true, "/var/lib/postgresql/18/docker", "/var/lib/postgresql", "wal_keep_size", "128MB"},
	} {
		f := tc.m.Facts()
		assert.Equal(t, tc.walKeep, f.WALKeepParam, tc.m)
		assert.Equal(t, tc.checksums, f.ChecksumsByDefault, tc.m)
		assert.Equal(t, tc.pgdata, f.PGData, tc.m)
		assert.Equal(t, tc.volume, f.Volume, tc.m)
		p, v := tc.m.WALKeep(128)
		assert.Equal(t, tc.walParam, p, tc.m)
		assert.Equal(t, tc.walVal, v, tc.m)
	}
	p, v := Major(12).WALKeep(100)
	assert.Equal(t, "wal_keep_segments", p)
	assert.Equal(t, "7", v, "rounded up to whole 16 MB segments")
}

func TestOrder(t *testing.T) {
	assert.True(t, Major(906).Before(10))
	assert.True(t, Major(904).Before(906))
	assert.True(t, Major(13).Before(15))
	assert.False(t, Major(18).Before(18))
	assert.True(t, Major(18).AtLeast(18))
	assert.False(t, Major(906).AtLeast(13))
}

func TestSupported(t *testing.T) {
	assert.Equal(t, []Major{13, 15, 17, 18}, Supported())
	assert.True(t, Major(17).IsSupported())
	assert.False(t, Major(16).IsSupported())
}

func TestCheckDataDir(t *testing.T) {
	assert.NoError(t, CheckDataDir(t.TempDir(), 15), "no cluster yet")
	assert.NoError(t, CheckDataDir(writeVersion(t, "15\n"), 15))

	dir := writeVersion(t, "13\n")
	err := CheckDataDir(dir, 15)
	var me *MismatchError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, Major(13), me.Data)
	assert.Equal(t, Major(15), me.Server)
	assert.True(t, me.Older())
	for _, s := range []string{dir, "PostgreSQL 13 cluster", "runs PostgreSQL 15", "pgdock/postgres:13", "PGDOCK_UPGRADE=true", "docs/upgrades.md", "nothing was changed"} {
		assert.Contains(t, err.Error(), s)
	}

	err = CheckDataDir(writeVersion(t, "18\n"), 15)
	require.ErrorAs(t, err, &me)
	assert.False(t, me.Older())
	assert.Contains(t, err.Error(), "cannot be downgraded")
	assert.Contains(t, err.Error(), "pgdock/postgres:18")

	err = CheckDataDir(writeVersion(t, "9.6\n"), 15)
	require.ErrorAs(t, err, &me)
	assert.True(t, me.Older())
	assert.Contains(t, err.Error(), "PostgreSQL 9.6 cluster")
	assert.Contains(t, err.Error(), "for PostgreSQL 13, 15, 17 and 18 only")

	err = CheckDataDir(writeVersion(t, "nonsense"), 15)
	assert.Error(t, err)
	assert.False(t, errors.As(err, &me))
}

func TestCheckLayout(t *testing.T) {
	mounted := func(paths ...string) func(string) bool {
		return func(p string) bool {
			for _, m := range paths {
				if m == p {
					return true
				}
			}
			return false
		}
	}
	legacy := mounted(LegacyPGData)
	assert.NoError(t, CheckLayout("/srv/pg", 15, legacy), "up to 17 the image declares that volume itself")
	assert.NoError(t, CheckLayout("/var/lib/postgresql/18/docker", 18, mounted("/var/lib/postgresql")), "18 as intended")
	assert.NoError(t, CheckLayout(LegacyPGData, 18, legacy), "18 with the old layout chosen by PGDATA")
	assert.NoError(t, CheckLayout(LegacyPGData+"/pgdata/", 18, legacy), "inside the mount")

	err := CheckLayout("/var/lib/postgresql/18/docker", 18, legacy)
	var le *LayoutError
	require.ErrorAs(t, err, &le)
	for _, s := range []string{"mounted at /var/lib/postgresql/data", "PGDATA is /var/lib/postgresql/18/docker", "Mount the volume at /var/lib/postgresql instead", "PGDATA=/var/lib/postgresql/data"} {
		assert.Contains(t, err.Error(), s)
	}
}
