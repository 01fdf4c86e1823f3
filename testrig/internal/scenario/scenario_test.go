package scenario

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/engine"
)

func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	nameRE := regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	for _, s := range Registry() {
		assert.Regexp(t, nameRE, s.Name)
		assert.False(t, seen[s.Name], "scenario %s registered twice", s.Name)
		seen[s.Name] = true
		assert.NotEmpty(t, s.Description, s.Name)
		assert.NotNil(t, s.Run, s.Name)
		assert.NotEmpty(t, s.Budgets, "%s: every scenario is timed against budgets", s.Name)
	}
	for _, want := range []string{"direct", "user", "sleep", "monitoring"} {
		assert.True(t, seen[want], want)
	}
}

func TestComposeFilesExist(t *testing.T) {
	for _, f := range []string{DirectCompose, MonitoringCompose} {
		_, err := os.Stat(filepath.Join("..", "..", "..", f))
		assert.NoError(t, err, "scenarios load %s", f)
	}
}

func TestProjectName(t *testing.T) {
	n := ProjectName("AB12cd34", "direct", 2)
	assert.Equal(t, "pgdockrig-ab12cd34-direct2", n)
	assert.NotEqual(t, NewRunID(), NewRunID())
	assert.Len(t, NewRunID(), 8)
}

func TestWriteInitScripts(t *testing.T) {
	dir := t.TempDir()
	names, err := writeInitScripts(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"00-schema.sql", "01-exec.sh", "02-sourced.sh", "03-data.sql.gz", "04-more.sql.xz", "05-last.sql.zst"}, names)
	mode := func(n string) os.FileMode {
		st, err := os.Stat(filepath.Join(dir, n))
		require.NoError(t, err)
		return st.Mode().Perm()
	}
	assert.Equal(t, os.FileMode(0o755), mode("01-exec.sh"), "executed")
	assert.Equal(t, os.FileMode(0o644), mode("02-sourced.sh"), "sourced")
	assert.Equal(t, os.FileMode(0o644), mode("05-last.sql.zst"))
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "the server's user must read the directory")
	// the compressed fixtures really are what their names say
	magic := map[string][]byte{
		"03-data.sql.gz":  {0x1f, 0x8b},
		"04-more.sql.xz":  {0xfd, '7', 'z', 'X', 'Z', 0},
		"05-last.sql.zst": {0x28, 0xb5, 0x2f, 0xfd},
	}
	for n, m := range magic {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		assert.Equal(t, m, b[:len(m)], n)
	}
}

func TestLogHelpers(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	lines := []engine.LogLine{
		{At: t0, Text: "[INFO] PostgreSQL is ready"},
		{At: t0.Add(time.Second), Text: "LOG:  database system is ready to accept connections"},
		{At: t0.Add(2 * time.Second), Text: "2026-12-03 16:00:02 UTC [85] FATAL:  password authentication failed"},
		{At: t0.Add(3 * time.Second), Text: "[INFO] PostgreSQL is ready"},
		{At: t0.Add(4 * time.Second), Text: `{"level":"error","msg":"plugin crashed"}`},
		{At: t0.Add(5 * time.Second), Text: "LOG:  statement: select 'ERROR' as word"},
		{At: t0.Add(6 * time.Second), Text: "[2026-12-03T15:47:14Z] [WARN] POSTGRES_HOST_AUTH_METHOD=trust"},
		{At: t0.Add(7 * time.Second), Text: `[2026-12-03T15:47:14Z] [ERROR] first-boot initialisation failed`},
	}
	at, ok := logTime(lines, pgdockReady, t0.Add(time.Second))
	assert.True(t, ok)
	assert.Equal(t, t0.Add(3*time.Second), at, "the first match at or after since")
	_, ok = logTime(lines, "never logged", t0)
	assert.False(t, ok)

	bad := errorLines(lines)
	assert.Equal(t, []string{lines[2].Text, lines[4].Text, lines[7].Text}, bad, "server FATAL and pgdock's error level; the word ERROR in a statement and a warning are not errors")
	tl := tail(lines, 2)
	assert.Contains(t, tl, "| [2026-12-03T15:47:14Z] [ERROR] first-boot")
	assert.NotContains(t, tl, "plugin crashed", "only the last n lines")
}
