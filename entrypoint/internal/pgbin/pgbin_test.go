package pgbin

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

func fakeInstall(t *testing.T, root, major string) string {
	dir := filepath.Join(root, "lib", "postgresql", major, "bin")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, n := range []string{"postgres", "initdb", "pg_ctl", "psql"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755))
	}
	return dir
}

func TestFindNewestWhenNotOnPath(t *testing.T) {
	root := t.TempDir()
	fakeInstall(t, root, "9.6")
	fakeInstall(t, root, "15")
	want := fakeInstall(t, root, "16")
	noPath := func(string) (string, error) { return "", errors.New("not found") }
	b, err := Finder{LookPath: noPath, Root: root}.Find()
	require.NoError(t, err)
	assert.Equal(t, want, b.Dir)
	assert.Equal(t, filepath.Join(want, "initdb"), b.Initdb)
}

func TestFindPrefersPath(t *testing.T) {
	root := t.TempDir()
	fakeInstall(t, root, "16")
	onPath := fakeInstall(t, root, "15")
	b, err := Finder{LookPath: func(string) (string, error) { return filepath.Join(onPath, "postgres"), nil }, Root: root}.Find()
	require.NoError(t, err)
	assert.Equal(t, onPath, b.Dir)
}

func TestFindNothing(t *testing.T) {
	_, err := Finder{LookPath: func(string) (string, error) { return "", errors.New("no") }, Root: t.TempDir()}.Find()
	assert.ErrorContains(t, err, "PostgreSQL not found")
}

func TestFindReal(t *testing.T) {
	if _, err := os.Stat("/usr/lib/postgresql"); err != nil {
		prereq.Missing(t, "no PostgreSQL installed under /usr/lib/postgresql (run `make deps`)")
	}
	b, err := Find()
	require.NoError(t, err)
	assert.FileExists(t, b.Postgres)
}
