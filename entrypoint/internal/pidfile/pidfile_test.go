package pidfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	full := "4242\n/var/lib/postgresql/data\n1700000000\n5432\n/var/run/postgresql\n*\n  5432001         0\nready   \n"
	i, err := Parse(full)
	require.NoError(t, err)
	assert.Equal(t, Info{PID: 4242, DataDir: "/var/lib/postgresql/data", Port: 5432, SocketDir: "/var/run/postgresql", Listen: "*", Status: "ready"}, i)
	assert.True(t, i.Ready())

	for _, tc := range []struct {
		in    string
		ready bool
		err   bool
	}{
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstarting\n", false, false},
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstandby \n", true, false},
		{"1\n/d\n1\n5432\n/s\n\n  1 0\nstopping\n", false, false},
		{"1\n/d\n", false, false}, // early in startup: not all lines yet
		{"", false, true},
		{"abc\n", false, true},
	} {
		got, err := Parse(tc.in)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.ready, got.Ready(), tc.in)
	}
}

func TestRead(t *testing.T) {
	d := t.TempDir()
	_, err := Read(d)
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, os.WriteFile(filepath.Join(d, "postmaster.pid"), []byte("7\n"+d+"\n"), 0o600))
	i, err := Read(d)
	require.NoError(t, err)
	assert.Equal(t, 7, i.PID)
}
