package fsutil

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMountInfoHas(t *testing.T) {
	const mi = `22 1 0:21 / / rw,relatime - overlay overlay rw
36 22 0:33 / /var/lib/postgresql/data rw,relatime - ext4 /dev/sda1 rw
37 22 0:34 / /srv/my\040data rw,relatime - ext4 /dev/sda2 rw
`
	assert.True(t, MountInfoHas(mi, "/var/lib/postgresql/data"))
	assert.True(t, MountInfoHas(mi, "/srv/my data"), "octal escapes undone")
	assert.False(t, MountInfoHas(mi, "/var/lib/postgresql"))
	assert.False(t, MountInfoHas(mi, "/srv/my\\040data"))
	assert.Equal(t, `a\b`, unescapeMount(`a\134b`))
	assert.Equal(t, `tail\04`, unescapeMount(`tail\04`), "a short escape is kept")
}

func TestIsMountPointRoot(t *testing.T) {
	m, err := IsMountPoint("/")
	assert.NoError(t, err)
	assert.True(t, m, "/ is a mount point")
	m, err = IsMountPoint(t.TempDir())
	assert.NoError(t, err)
	assert.False(t, m, "a fresh temporary directory is not")
}
