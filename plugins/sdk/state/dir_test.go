package state

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestResolveDir(t *testing.T) {
	assert.Equal(t, "/custom", ResolveDir("/custom", 12345), "an explicit directory always wins")
	assert.Equal(t, DefaultDir, ResolveDir("", 0), "root can always create or use it")
	assert.Equal(t, "/tmp/pgdock-12345", FallbackDir(12345))

	// For another uid the answer depends on DefaultDir's state on this
	// machine; whichever it is, the rule is deterministic and never empty.
	got := ResolveDir("", 54321)
	assert.Contains(t, []string{DefaultDir, FallbackDir(54321)}, got)
	assert.Equal(t, got, ResolveDir("", 54321))
}

func TestUsable(t *testing.T) {
	d := t.TempDir()
	assert.True(t, usable(d, os.Geteuid()))
	assert.False(t, usable(d+"/missing", os.Geteuid()))
	if os.Geteuid() == 0 {
		// Judged from the mode bits for a uid other than ours.
		const other = 54321
		require := func(mode os.FileMode, uid int, want bool) {
			t.Helper()
			assert.NoError(t, os.Chmod(d, mode))
			assert.NoError(t, os.Chown(d, uid, uid))
			assert.Equal(t, want, usable(d, other), "mode %o owner %d", mode, uid)
		}
		require(0o755, 0, false)
		require(0o1777, 0, true)
		require(0o3777, 0, true)
		require(0o700, other, true)
		require(0o500, other, false)
	}
}
