package fsutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileAtomic(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "f.conf")
	require.NoError(t, WriteFileAtomic(p, []byte("one"), 0o600))
	require.NoError(t, WriteFileAtomic(p, []byte("two"), 0o640))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
	fi, _ := os.Stat(p)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	entries, _ := os.ReadDir(d)
	assert.Len(t, entries, 1, "no temporary file left behind")
	assert.Error(t, WriteFileAtomic(filepath.Join(d, "missing", "x"), nil, 0o600))
}

func TestLockDirIsExclusive(t *testing.T) {
	d := t.TempDir()
	l, err := LockDir(d)
	require.NoError(t, err)
	_, err = LockDir(d)
	assert.ErrorIs(t, err, ErrLocked, "a second open file description cannot take it")
	entries, _ := os.ReadDir(d)
	assert.Empty(t, entries, "no lock file is created")
	require.NoError(t, l.Release())
	l2, err := LockDir(d)
	require.NoError(t, err, "free again after Release")
	require.NoError(t, l2.Release())
	_, err = LockDir(filepath.Join(d, "missing"))
	assert.Error(t, err)
}
