package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	_, err := Read(dir)
	assert.ErrorIs(t, err, ErrNoState)

	in := State{Phase: PhaseRunning, Mode: "direct", PID: 1, PostmasterPID: 42, PGData: "/data", Port: 5432,
		SocketDir: "/run/postgresql", User: "postgres",
		Plugins: []Plugin{{Name: "example", Version: "1.0", Reattach: Reattach{Protocol: "grpc", ProtocolVersion: 1, Network: "unix", Address: "/run/pgdock/plugins/x", Pid: 7}}}}
	require.NoError(t, Write(dir, in))
	out, err := Read(dir)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion, out.SchemaVersion)
	assert.WithinDuration(t, time.Now(), out.UpdatedAt, time.Minute)
	out.UpdatedAt, out.SchemaVersion = time.Time{}, 0
	assert.Equal(t, in, out)

	fi, err := os.Stat(Path(dir))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "readable by the group, not by others")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestReadRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(Path(dir), []byte("{not json"), 0o640))
	_, err := Read(dir)
	assert.ErrorContains(t, err, "decode state file")
	require.NoError(t, os.WriteFile(Path(dir), []byte(`{"schema_version":99}`), 0o640))
	_, err = Read(dir)
	assert.ErrorContains(t, err, "schema version 99")
	assert.Error(t, Write(filepath.Join(dir, "missing"), State{}))
}
