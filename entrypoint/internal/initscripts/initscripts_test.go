package initscripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListOrderAndSkips(t *testing.T) {
	d := t.TempDir()
	for _, n := range []string{"10-b.sql", "2-a.sh", "01-z.sql.gz", ".hidden.sql", "README"} {
		require.NoError(t, os.WriteFile(filepath.Join(d, n), nil, 0o644))
	}
	got, err := List(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"01-z.sql.gz", "10-b.sql", "2-a.sh", "README"}, got, "sorted names, dot files skipped")

	none, err := List(filepath.Join(d, "missing"))
	require.NoError(t, err)
	assert.Empty(t, none, "a missing directory has no scripts")

	if os.Getuid() != 0 { // root reads anything
		locked := filepath.Join(d, "locked")
		require.NoError(t, os.Mkdir(locked, 0o000))
		_, err = List(locked)
		assert.ErrorContains(t, err, "read init script directory")
	}
}

func TestHelperLibHasTheOfficialFunctions(t *testing.T) {
	lib := string(HelperLib())
	for _, fn := range []string{"file_env()", "docker_process_sql()", "psql=( docker_process_sql )", "docker_temp_server_start()"} {
		assert.True(t, strings.Contains(lib, fn), fn)
	}
}

func TestScriptErrorNamesTheFile(t *testing.T) {
	err := &ScriptError{File: "/docker-entrypoint-initdb.d/02.sql", Err: os.ErrPermission}
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.Contains(t, err.Error(), "02.sql")
}
