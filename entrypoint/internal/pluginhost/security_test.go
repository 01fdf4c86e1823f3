package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// The bytes that were verified are the bytes that run: replacing the binary
// between the checksum and the start (here by a rename over it, the way an
// attacker with write access would) changes nothing. Before the fix the
// host hashed the path and then executed the path again.
func TestVerifiedBytesRunAfterSwap(t *testing.T) {
	tests := []struct {
		name string
		swap func(t *testing.T, f *fixture, path string)
	}{
		{name: "rename over the binary", swap: func(t *testing.T, f *fixture, path string) {
			tmp := filepath.Join(f.dir, ".swap")
			data, err := os.ReadFile(exampleBin)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(tmp, data, 0o755))
			require.NoError(t, os.Rename(tmp, path))
		}},
		{name: "remove the binary", swap: func(t *testing.T, f *fixture, path string) {
			require.NoError(t, os.Remove(path))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaultyFixture(t, nil)
			path := filepath.Join(f.dir, BinaryPrefix+"faulty")
			f.opts.afterVerify = func() { tt.swap(t, f, path) }
			m := f.start(t)
			ds := m.Descriptions()
			require.Len(t, ds, 1)
			// The example binary would describe itself as "example" and be
			// refused; the verified faulty binary runs.
			assert.Equal(t, "faulty", ds[0].Name)
			assert.Equal(t, path, ds[0].Binary)
			// argv[0] is the plugin's path (a multi-call binary dispatches on
			// its base name), not /proc/self/fd/N.
			cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(ds[0].Pid), "cmdline"))
			require.NoError(t, err)
			assert.Equal(t, path, strings.TrimRight(string(cmdline), "\x00"))
			// The SDK names the process after argv[0] (the kernel keeps 15
			// bytes), not "3" from /proc/self/fd/3.
			comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(ds[0].Pid), "comm"))
			require.NoError(t, err)
			assert.Equal(t, (BinaryPrefix + "faulty")[:15], strings.TrimSpace(string(comm)))
			exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(ds[0].Pid), "exe"))
			require.NoError(t, err)
			assert.Equal(t, path+" (deleted)", exe, "the process runs the verified file, which is no longer at the path")
		})
	}
}

// The verified descriptor does not leak to anything but the plugin: the
// entrypoint closes its copy once the plugin started.
func TestVerifiedDescriptorClosedAfterStart(t *testing.T) {
	before := openFDs(t)
	f := newFaultyFixture(t, nil)
	m := f.start(t)
	require.Len(t, m.Descriptions(), 1)
	for _, target := range openFDs(t) {
		assert.NotEqual(t, filepath.Join(f.dir, BinaryPrefix+"faulty"), target, "the host still holds the plugin binary open (had %v before)", before)
	}
}

func openFDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil {
			out = append(out, target)
		}
	}
	return out
}

// Anything that would let someone but root choose the bytes pgdock runs is
// refused before anything starts, naming the path and the fix.
func TestUnsafePluginFilesRefused(t *testing.T) {
	tests := []struct {
		name     string
		needRoot bool
		prepare  func(t *testing.T, f *fixture) string // returns the offending path
		want     []string
	}{
		{
			name:    "group-writable plugin directory",
			prepare: func(t *testing.T, f *fixture) string { chmod(t, f.dir, 0o775); return f.dir },
			want:    []string{"plugin directory", "PGDOCK_PLUGIN_DIR", "writable by its group or others", "chmod go-w"},
		},
		{
			name:    "world-writable plugin directory",
			prepare: func(t *testing.T, f *fixture) string { chmod(t, f.dir, 0o777); return f.dir },
			want:    []string{"plugin directory", "mode 0777", "chmod go-w"},
		},
		{
			name: "other-writable binary",
			prepare: func(t *testing.T, f *fixture) string {
				p := f.installCopy(t, "faulty", faultyBin)
				chmod(t, p, 0o757)
				return p
			},
			want: []string{"plugin faulty", "plugin binary", "writable by its group or others", "chmod go-w"},
		},
		{
			name: "group-writable checksum list",
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, ChecksumFile)
				chmod(t, p, 0o664)
				return p
			},
			want: []string{"checksum list", "writable by its group or others", "chmod go-w"},
		},
		{
			name:     "binary owned by another user",
			needRoot: true,
			prepare: func(t *testing.T, f *fixture) string {
				p := f.installCopy(t, "faulty", faultyBin)
				require.NoError(t, os.Chown(p, 12345, 0))
				return p
			},
			want: []string{"plugin binary", "owned by uid 12345", "chown root"},
		},
		{
			name:     "directory owned by another user",
			needRoot: true,
			prepare: func(t *testing.T, f *fixture) string {
				require.NoError(t, os.Chown(f.dir, 999, 999))
				return f.dir
			},
			want: []string{"plugin directory", "owned by uid 999", "chown root"},
		},
		{
			name:     "checksum list owned by another user",
			needRoot: true,
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, ChecksumFile)
				require.NoError(t, os.Chown(p, 999, 999))
				return p
			},
			want: []string{"checksum list", "owned by uid 999", "chown root"},
		},
		{
			name: "symlinked binary",
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, BinaryPrefix+"faulty")
				require.NoError(t, os.Remove(p))
				require.NoError(t, os.Symlink(faultyBin, p))
				return p
			},
			want: []string{"plugin binary", "is a symbolic link", faultyBin, "replace the link"},
		},
		{
			name: "symlinked checksum list",
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, ChecksumFile)
				real := filepath.Join(t.TempDir(), "sums")
				require.NoError(t, os.Rename(p, real))
				require.NoError(t, os.Symlink(real, p))
				return p
			},
			want: []string{"checksum list", "is a symbolic link"},
		},
		{
			name: "symlinked plugin directory",
			prepare: func(t *testing.T, f *fixture) string {
				link := filepath.Join(t.TempDir(), "plugins")
				require.NoError(t, os.Symlink(f.dir, link))
				f.opts.Dir = link
				return link
			},
			want: []string{"plugin directory", "is a symbolic link"},
		},
		{
			name: "symlinked plugin directory, trailing slash",
			prepare: func(t *testing.T, f *fixture) string {
				link := filepath.Join(t.TempDir(), "plugins")
				require.NoError(t, os.Symlink(f.dir, link))
				f.opts.Dir = link + "/"
				return link
			},
			want: []string{"plugin directory", "is a symbolic link"},
		},
		{
			name: "binary not executable",
			prepare: func(t *testing.T, f *fixture) string {
				p := f.installCopy(t, "faulty", faultyBin)
				chmod(t, p, 0o644)
				return p
			},
			want: []string{"not executable", "chmod 0755"},
		},
		{
			name: "binary in no executable format",
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, BinaryPrefix+"faulty")
				require.NoError(t, os.Remove(p))
				require.NoError(t, os.WriteFile(p, []byte("not a program\n"), 0o755))
				f.writeSums(t, sha256File(t, p)+"  "+BinaryPrefix+"faulty\n")
				return p
			},
			want: []string{"plugin faulty", "cannot execute", "exec format error"},
		},
		{
			name: "binary is a FIFO",
			prepare: func(t *testing.T, f *fixture) string {
				p := filepath.Join(f.dir, BinaryPrefix+"faulty")
				require.NoError(t, os.Remove(p))
				require.NoError(t, syscall.Mkfifo(p, 0o644))
				f.writeSums(t, strings.Repeat("ab", 32)+"  "+BinaryPrefix+"faulty\n")
				return p
			},
			want: []string{"plugin binary", "not a regular file (a FIFO)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot {
				sdktest.NeedRoot(t, "chown to another user")
			}
			f := newFaultyFixture(t, nil)
			path := tt.prepare(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m, err := Start(ctx, f.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), path)
			for _, s := range tt.want {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), procFD, "errors name the plugin's path, not the descriptor it is run from")
			left, _ := os.ReadDir(f.sockets)
			assert.Empty(t, left, "no socket directory left")
			assert.Empty(t, processesRunning(t, f.dir), "nothing was started")
		})
	}
}

// A uid listed in TrustUIDs (the entrypoint's own when it did not start as
// root) may own the plugin files.
func TestTrustUIDs(t *testing.T) {
	sdktest.NeedRoot(t, "chown to another user")
	f := newFaultyFixture(t, nil)
	p := f.installCopy(t, "faulty", faultyBin)
	for _, path := range []string{f.dir, p, filepath.Join(f.dir, ChecksumFile)} {
		require.NoError(t, os.Chown(path, 4242, 4242))
	}
	_, err := Start(testCtx(t), f.opts)
	require.ErrorContains(t, err, "owned by uid 4242")
	f.opts.TrustUIDs = []int{4242}
	m := f.start(t)
	assert.Len(t, m.Descriptions(), 1)
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	require.NoError(t, os.Chmod(path, mode))
}

// The descriptor the plugin was executed from does not leak into the
// plugin's own children (the SDK marks it close-on-exec).
func TestExecDescriptorNotInherited(t *testing.T) {
	f := newFaultyFixture(t, map[string]string{"FAULTY_SPAWN_CHILD": "true"})
	m := f.start(t)
	pid := m.Descriptions()[0].Pid
	var child int
	require.Eventually(t, func() bool {
		for _, p := range groupAlive(t, pid) {
			if p != pid {
				child = p
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "the plugin's child")
	bin := filepath.Join(f.dir, BinaryPrefix+"faulty")
	target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", "3"))
	require.NoError(t, err)
	assert.Equal(t, bin, target, "the plugin itself holds its executable as descriptor 3")
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(child), "fd"))
	require.NoError(t, err)
	for _, e := range fds {
		target, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(child), "fd", e.Name()))
		assert.NotEqual(t, bin, target, "the plugin's child inherited the plugin binary as descriptor %s", e.Name())
	}
}

// A multi-call binary (the images ship one, hard-linked under every plugin
// name) dispatches on the base name of argv[0]: the host keeps argv[0] the
// plugin's path although it executes a descriptor. The faulty plugin takes
// its name from argv[0], and the host refuses a plugin describing itself
// under another name.
func TestMultiCallBinaryGetsItsName(t *testing.T) {
	f := newFaultyFixture(t, nil)
	require.NoError(t, os.Link(filepath.Join(f.dir, BinaryPrefix+"faulty"), filepath.Join(f.dir, BinaryPrefix+"second")))
	sum := sha256File(t, faultyBin)
	f.writeSums(t, sum+"  "+BinaryPrefix+"faulty\n"+sum+"  "+BinaryPrefix+"second\n")
	f.opts.Env["SECOND_ENABLE"] = "on"
	m := f.start(t)
	var names []string
	for _, d := range m.Descriptions() {
		names = append(names, d.Name)
	}
	assert.Equal(t, []string{"faulty", "second"}, names)
}
