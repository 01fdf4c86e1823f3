package pgbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindBinDir(t *testing.T) {
	root := t.TempDir()
	for _, m := range []string{"13", "15", "9"} {
		d := filepath.Join(root, "lib", "postgresql", m, "bin")
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "postgres"), nil, 0o755))
	}
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	got, err := FindBinDir(notFound, root)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "lib", "postgresql", "15", "bin"), got)
	got, err = FindBinDir(func(string) (string, error) { return "/opt/pg/bin/postgres", nil }, root)
	require.NoError(t, err)
	assert.Equal(t, "/opt/pg/bin", got)
	_, err = FindBinDir(notFound, t.TempDir())
	assert.ErrorContains(t, err, "postgresql-<major>")
}
