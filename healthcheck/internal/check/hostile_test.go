package check

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// A state file someone replaced with something hostile must give every
// check a quick, bounded failure: no gigabytes read from /dev/zero, no
// hang on a FIFO without writer, no decoding of a huge file.
func TestHostileStateFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		message string
	}{
		{name: "symlink to /dev/zero", prepare: func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }, message: "symbolic link"},
		{name: "symlink to a valid state file", prepare: func(t *testing.T, p string) {
			other := t.TempDir()
			require.NoError(t, state.Write(other, state.State{Phase: state.PhaseRunning, PID: os.Getpid()}))
			require.NoError(t, os.Symlink(state.Path(other), p))
		}, message: "symbolic link"},
		{name: "FIFO without writer", prepare: func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o600)) }, message: "is a FIFO"},
		{name: "directory", prepare: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }, message: "is a directory"},
		{name: "huge sparse file", prepare: func(t *testing.T, p string) {
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(8<<30))
			require.NoError(t, f.Close())
		}, message: "more than 1048576"},
		{name: "just over the limit", prepare: func(t *testing.T, p string) {
			require.NoError(t, os.WriteFile(p, []byte(`{"pad":"`+strings.Repeat("x", MaxStateFileSize)+`"}`), 0o600))
		}, message: "more than 1048576"},
		{name: "garbage", prepare: func(t *testing.T, p string) { require.NoError(t, os.WriteFile(p, []byte("\x00\x01"), 0o600)) }, message: "decode state file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runner(t, nil, &fakeProber{hangs: true})
			r.Config.Timeout = 2 * time.Second
			r.Config.PGData = t.TempDir() // disk and process: nothing hostile there
			tc.prepare(t, state.Path(r.Config.StateDir))
			for _, name := range []Name{Readiness, Liveness, Startup, PostgreSQL, Patroni, Comprehensive} {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				rep := r.Run(context.Background(), name)
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				assert.False(t, rep.Healthy, "%s: %s", name, rep.Message)
				assert.Equal(t, 1, rep.ExitCode())
				assert.Contains(t, rep.Message, tc.message, name)
				assert.Less(t, took, r.Config.Timeout, "%s took %s", name, took)
				assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), "%s allocated too much", name)
			}
			for _, name := range []Name{Disk, Process} { // the state only names PGDATA for these
				start := time.Now()
				rep := r.Run(context.Background(), name)
				assert.Less(t, time.Since(start), r.Config.Timeout, "%s: %s", name, rep.Message)
			}
		})
	}
}

// A postmaster.pid replaced by a symlink to /dev/zero or a FIFO must not
// hang or bloat the liveness, process and comprehensive checks.
func TestHostilePostmasterPIDFile(t *testing.T) {
	for _, kind := range []string{"zero", "fifo"} {
		t.Run(kind, func(t *testing.T) {
			pgdata := t.TempDir()
			pidFile := filepath.Join(pgdata, "postmaster.pid")
			if kind == "zero" {
				require.NoError(t, os.Symlink("/dev/zero", pidFile))
			} else {
				require.NoError(t, syscall.Mkfifo(pidFile, 0o600))
			}
			st := state.State{Phase: state.PhaseRunning, PID: os.Getpid(), PGData: pgdata, SocketDir: t.TempDir(), Port: 5432}
			r := runner(t, &st, nil)
			r.Config.Timeout = 2 * time.Second
			for _, name := range []Name{Liveness, Startup, Process, Comprehensive} {
				start := time.Now()
				rep := r.Run(context.Background(), name)
				assert.False(t, rep.Healthy, "%s: %s", name, rep.Message)
				assert.Less(t, time.Since(start), r.Config.Timeout, "%s: %s", name, rep.Message)
				assert.NotContains(t, rep.Message, "no verdict within", name)
			}
		})
	}
}

// A peer that accepts the connection and then never answers (PostgreSQL's
// socket or a plugin's) costs no more than --timeout.
func TestSlowPeersBoundedByTimeout(t *testing.T) {
	sockDir := t.TempDir()
	const port = 5999
	ln, err := net.Listen("unix", filepath.Join(sockDir, ".s.PGSQL.5999"))
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // hold it open, say nothing
		}
	}()
	st := state.State{Phase: state.PhaseRunning, PID: os.Getpid(), PGData: t.TempDir(), SocketDir: sockDir, Port: port}
	for _, name := range []Name{Readiness, PostgreSQL, Comprehensive} {
		r := runner(t, &st, nil)
		r.Config.Timeout = 300 * time.Millisecond
		start := time.Now()
		rep := r.Run(context.Background(), name)
		took := time.Since(start)
		assert.False(t, rep.Healthy, "%s: %s", name, rep.Message)
		assert.Contains(t, rep.Message, "no answer within 300ms", name)
		assert.Less(t, took, 2*r.Config.Timeout, "%s took %s", name, took)
	}
}

// Run returns at the deadline even when a step blocks in a way its context
// cannot interrupt, and names the step.
func TestBoundedAbandonsABlockedStep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	p := new(progress)
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	rep := bounded(ctx, Disk, 200*time.Millisecond, p, func(context.Context) Report {
		p.set("checking free space on /hung/nfs")
		<-block // ignores ctx, like statfs on a hung filesystem
		return Report{Check: Disk, Healthy: true}
	})
	assert.Less(t, time.Since(start), time.Second)
	assert.False(t, rep.Healthy)
	assert.Equal(t, "no verdict within 200ms: timed out checking free space on /hung/nfs", rep.Message)

	rep = bounded(context.Background(), Disk, time.Second, new(progress), func(context.Context) Report { panic("boom") })
	assert.Equal(t, "internal error: boom", rep.Message)
}

// After a clean stop the entrypoint's last word is phase stopped: every
// check that reads the state says "stopped", not "stale state file"; a dead
// writer that did not record stopped stays stale.
func TestStoppedVersusStale(t *testing.T) {
	dead := deadPID(t)
	tests := []struct {
		name    string
		phase   state.Phase
		message string
	}{
		{name: "clean stop", phase: state.PhaseStopped, message: "stopped: entrypoint pid "},
		{name: "died while running", phase: state.PhaseRunning, message: "stale state file: entrypoint pid "},
		{name: "died while stopping", phase: state.PhaseStopping, message: "stale state file: entrypoint pid "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := state.State{Phase: tc.phase, PID: dead, PGData: t.TempDir(), SocketDir: t.TempDir(), Port: 5432}
			r := runner(t, &st, nil)
			for _, name := range []Name{Readiness, Liveness, Startup, PostgreSQL} {
				rep := r.Run(context.Background(), name)
				assert.False(t, rep.Healthy)
				assert.True(t, strings.HasPrefix(rep.Message, tc.message), "%s: %q, want prefix %q", name, rep.Message, tc.message)
			}
		})
	}
}
