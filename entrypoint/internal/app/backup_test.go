package app

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBackupRefusesUnknownType(t *testing.T) {
	var out, errb bytes.Buffer
	o := Options{Env: map[string]string{}, Stdout: &out, Stderr: &errb}
	assert.Equal(t, 2, Backup(o, "weekly"))
	assert.Contains(t, errb.String(), "one of full, diff, incr")
}

func TestBackupWithoutEntrypoint(t *testing.T) {
	var out, errb bytes.Buffer
	o := Options{Env: map[string]string{"PGDOCK_STATE_DIR": t.TempDir()}, Stdout: &out, Stderr: &errb}
	assert.Equal(t, 1, Backup(o, "full"))
	assert.Contains(t, errb.String(), "no hooks socket")
}

func TestBackupInfo(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	o := Options{Env: map[string]string{"PGDOCK_STATE_DIR": dir}, Stdout: &out, Stderr: &errb}
	assert.Equal(t, 2, BackupInfo(o, "yaml"))
	assert.Contains(t, errb.String(), "text or json")
	errb.Reset()
	assert.Equal(t, 1, BackupInfo(o, "text"))
	assert.Contains(t, errb.String(), filepath.Join(dir, "files", "pgbackrest", "pgbackrest.conf"))
	assert.Contains(t, errb.String(), "PGBACKREST_ENABLE=true")
	_, err := os.Stat(filepath.Join(dir, "files"))
	assert.True(t, os.IsNotExist(err), "backup info created files")
}
