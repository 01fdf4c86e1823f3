package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	require.NoError(t, os.WriteFile(regular, []byte("hello"), 0o600))
	exact := filepath.Join(dir, "exact")
	require.NoError(t, os.WriteFile(exact, []byte(strings.Repeat("x", 64)), 0o600))
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", 65)), 0o600))
	sparse := filepath.Join(dir, "sparse") // 1 TiB that occupies no disk
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<40))
	require.NoError(t, f.Close())
	zero := filepath.Join(dir, "zero")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	linkToRegular := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(regular, linkToRegular))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))

	tests := []struct {
		name string
		path string
		want string
		err  error
		msg  string
	}{
		{name: "regular file", path: regular, want: "hello"},
		{name: "exactly the limit", path: exact, want: strings.Repeat("x", 64)},
		{name: "one byte over the limit", path: big, err: ErrTooLarge, msg: "has 65 bytes, more than 64"},
		{name: "huge sparse file", path: sparse, err: ErrTooLarge},
		{name: "symlink to /dev/zero", path: zero, err: ErrNotRegular, msg: "symbolic link"},
		{name: "symlink to a regular file", path: linkToRegular, err: ErrNotRegular, msg: "symbolic link"},
		{name: "FIFO without writer", path: fifo, err: ErrNotRegular, msg: "is a FIFO"},
		{name: "directory", path: sub, err: ErrNotRegular, msg: "is a directory"},
		{name: "character device", path: "/dev/zero", err: ErrNotRegular, msg: "character device"},
		{name: "missing", path: filepath.Join(dir, "missing"), err: os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var data []byte
			var err error
			go func() { defer close(done); data, err = Read(tc.path, 64) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Read blocked")
			}
			if tc.err != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.err), "error %v, want %v", err, tc.err)
				assert.Contains(t, err.Error(), tc.msg)
				assert.Nil(t, data)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(data))
		})
	}
}

func TestReadRefusesNonPositiveLimit(t *testing.T) {
	_, err := Read("/etc/hostname", 0)
	assert.ErrorContains(t, err, "limit 0")
}
