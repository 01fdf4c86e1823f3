package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// maxRSSBound is far above the binary's few MiB (and above the test
// process's own RSS, which a vfork-started child's ru_maxrss may include),
// and far below what reading /dev/zero for a few seconds costs.
const maxRSSBound = 100 << 20

// The real binary on a hostile state file: exit 1 with one line, well inside
// --timeout, with bounded memory.
func TestBinaryOnHostileStateFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		line    string
	}{
		{name: "symlink to /dev/zero", prepare: func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }, line: "symbolic link"},
		{name: "FIFO", prepare: func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) }, line: "is a FIFO"},
		{name: "directory", prepare: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }, line: "is a directory"},
		{name: "huge file", prepare: func(t *testing.T, p string) {
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(64<<30))
			require.NoError(t, f.Close())
		}, line: "more than 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, state.Path(dir))
			for _, check := range []string{"readiness", "liveness", "comprehensive"} {
				got, took, rss := runTimed(t, "--state-dir", dir, "--timeout", "3s", "--pgdata", t.TempDir(), check)
				assert.Equal(t, 1, got.code, got.stdout)
				assert.Contains(t, got.stdout, tc.line, check)
				assert.Less(t, took, 3*time.Second, check)
				assert.Less(t, rss, int64(maxRSSBound), check)
			}
		})
	}
}

// A plugin socket and a PostgreSQL socket that accept and never answer:
// the binary still exits 1 inside --timeout.
func TestBinaryOnSlowPeers(t *testing.T) {
	dir := t.TempDir()
	silent := func(path string) {
		ln, err := net.Listen("unix", path)
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
	}
	silent(filepath.Join(dir, ".s.PGSQL.5998"))
	silent(filepath.Join(dir, "plugin.sock"))
	srv := pg.Need(t)
	for _, tc := range []struct {
		name string
		st   state.State
		line string
	}{
		{name: "silent PostgreSQL", st: state.State{Phase: state.PhaseRunning, PID: os.Getpid(), SocketDir: dir, Port: 5998, PGData: t.TempDir()},
			line: "FAIL readiness: no answer within 500ms"},
		{name: "silent plugin", st: state.State{Phase: state.PhaseRunning, PID: os.Getpid(), SocketDir: srv.SocketDir, Port: srv.Port, PGData: srv.DataDir, User: "postgres",
			Plugins: []state.Plugin{{Name: "slow", Reattach: state.Reattach{Protocol: "grpc", ProtocolVersion: 1, Network: "unix", Address: filepath.Join(dir, "plugin.sock"), Pid: os.Getpid()}}}},
			line: "FAIL readiness: plugin:slow: probe failed: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := t.TempDir()
			require.NoError(t, state.Write(sd, tc.st))
			got, took, _ := runTimed(t, "--state-dir", sd, "--timeout", "500ms")
			assert.Equal(t, 1, got.code, got.stdout)
			assert.Contains(t, got.stdout, tc.line)
			assert.Less(t, took, 1500*time.Millisecond)
		})
	}
}

// runTimed runs the binary and returns its result, wall time and peak RSS
// in bytes.
func runTimed(t *testing.T, args ...string) (result, time.Duration, int64) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %v: %v", args, err)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	require.NotNil(t, ru)
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String()}, took, ru.Maxrss << 10
}
