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

// An existing directory, such as a shared sticky /tmp used as the socket
// directory, is left exactly as it is; a new one gets the full mode.
func TestMakeDirLeavesExistingDirectoriesAlone(t *testing.T) {
	base := t.TempDir()
	shared := filepath.Join(base, "tmp")
	require.NoError(t, os.Mkdir(shared, 0o700))
	require.NoError(t, syscall.Chmod(shared, 0o1777))
	made, err := MakeDir(shared, 0o3775)
	require.NoError(t, err)
	assert.False(t, made)
	fi, err := os.Stat(shared)
	require.NoError(t, err)
	assert.Equal(t, uint32(0o1777), uint32(fi.Sys().(*syscall.Stat_t).Mode)&0o7777, "mode unchanged")

	fresh := filepath.Join(base, "a", "sock")
	made, err = MakeDir(fresh, 0o3775)
	require.NoError(t, err)
	assert.True(t, made)
	fi, err = os.Stat(fresh)
	require.NoError(t, err)
	assert.Equal(t, uint32(0o3775), uint32(fi.Sys().(*syscall.Stat_t).Mode)&0o7777, "setgid and sticky bits despite the umask")

	require.NoError(t, os.WriteFile(filepath.Join(base, "file"), nil, 0o600))
	_, err = MakeDir(filepath.Join(base, "file"), 0o700)
	assert.ErrorContains(t, err, "not a directory")
}

// A symlinked root (PGDATA as a link) is followed, as `find "$PGDATA/"` is.
func TestFixOwnershipFollowsASymlinkedRoot(t *testing.T) {
	prereq.NeedRoot(t, "chown")
	target := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(target, "f"), nil, 0o600))
	link := filepath.Join(t.TempDir(), "pgdata")
	require.NoError(t, os.Symlink(target, link))
	const uid, gid = 4321, 4321
	n, err := FixOwnership(uid, gid, link)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the target directory and its file")
	for _, p := range []string{target, filepath.Join(target, "f")} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.EqualValues(t, uid, fi.Sys().(*syscall.Stat_t).Uid, p)
	}
	li, err := os.Lstat(link)
	require.NoError(t, err)
	assert.EqualValues(t, 0, li.Sys().(*syscall.Stat_t).Uid, "the link itself is not what matters")
}
