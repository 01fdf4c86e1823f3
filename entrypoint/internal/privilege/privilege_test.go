package privilege

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

func TestFixOwnershipOnlyMisowned(t *testing.T) {
	prereq.NeedRoot(t, "to chown")
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a", "b"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a", "f"), []byte("x"), 0o600))
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(root, "link")))
	const uid, gid = 4321, 4321
	require.NoError(t, os.Lchown(filepath.Join(root, "a", "f"), uid, 0))

	n, err := FixOwnership(uid, gid, root, "", filepath.Join(root, "missing"))
	require.NoError(t, err)
	assert.Equal(t, 4, n, "root, a, a/b and link; a/f was already right")
	for _, p := range []string{root, filepath.Join(root, "a", "b"), filepath.Join(root, "link")} {
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		assert.EqualValues(t, uid, fi.Sys().(*syscall.Stat_t).Uid, p)
	}
	etc, _ := os.Stat("/etc/passwd")
	assert.EqualValues(t, 0, etc.Sys().(*syscall.Stat_t).Uid, "symlink target untouched")

	n, err = FixOwnership(uid, gid, root)
	require.NoError(t, err)
	assert.Zero(t, n, "second pass changes nothing")
}

func TestEnsureDir(t *testing.T) {
	d := filepath.Join(t.TempDir(), "x", "y")
	require.NoError(t, EnsureDir(d, 0o700, true))
	fi, err := os.Stat(d)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

func TestLookup(t *testing.T) {
	_, err := Lookup("no-such-user-pgdock")
	assert.ErrorContains(t, err, "no-such-user-pgdock")
	id, err := Lookup("root")
	require.NoError(t, err)
	assert.Equal(t, 0, id.UID)
	assert.True(t, HasPasswdEntry(0))
	assert.False(t, HasPasswdEntry(987654))
}
