package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Plugin binaries built once by TestMain: the example plugin, and the
// test-only faulty plugin whose knobs inject faults (plugins/sdk/internal/faulty).
var exampleBin, faultyBin string

func TestMain(m *testing.M) {
	if os.Getenv(hostHelperEnv) != "" {
		runHostHelper()
		return
	}
	// Plugin files must not be group-writable (Start refuses them),
	// whatever the caller's umask.
	syscall.Umask(0o022)
	dir, err := os.MkdirTemp("", "pgdock-pluginhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exampleBin = filepath.Join(dir, "pgdock-plugin-example")
	faultyBin = filepath.Join(dir, "pgdock-plugin-faulty")
	// Each built in its own module (go build -C), so that this works with
	// and without go.work (GOWORK=off).
	for out, pkg := range map[string][2]string{
		exampleBin: {"../../../plugins/example", "./cmd/pgdock-plugin-example"},
		faultyBin:  {"../../../plugins/sdk", "./internal/faulty"},
	} {
		cmd := exec.Command("go", "build", "-C", pkg[0], "-o", out, pkg[1])
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, b)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is a plugin directory with the example plugin and its checksum,
// a socket dir and an observed logger.
type fixture struct {
	dir, sockets string
	logs         *observer.ObservedLogs
	opts         Options
}

func sha256File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// newFixture installs the example plugin with a correct SHA256SUMS. env is
// added to EXAMPLE_ENABLE=true and PATH.
func newFixture(t testing.TB, env map[string]string) *fixture {
	t.Helper()
	return newPluginFixture(t, "example", exampleBin, env)
}

// newFaultyFixture installs the faulty test plugin instead (FAULTY_ENABLE).
func newFaultyFixture(t testing.TB, env map[string]string) *fixture {
	t.Helper()
	return newPluginFixture(t, "faulty", faultyBin, env)
}

func newPluginFixture(t testing.TB, name, bin string, env map[string]string) *fixture {
	t.Helper()
	// Unix socket paths are short: keep the socket dir out of t.TempDir's
	// long, test-named path.
	short, err := os.MkdirTemp("", "pgd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(short) })
	f := &fixture{dir: t.TempDir(), sockets: filepath.Join(short, "plugins")}
	f.install(t, name, bin)
	f.writeSums(t, sha256File(t, bin)+"  "+BinaryPrefix+name+"\n")
	core, logs := observer.New(zapcore.DebugLevel)
	f.logs = logs
	full := map[string]string{envName(name, "ENABLE"): "true", "PATH": os.Getenv("PATH")}
	for k, v := range env {
		full[k] = v
	}
	f.opts = Options{
		Dir:          f.dir,
		Env:          full,
		SocketDir:    f.sockets,
		Logger:       zap.New(core),
		StartTimeout: 5 * time.Second,
		HookTimeout:  5 * time.Second,
	}
	return f
}

// install puts a copy of bin into the plugin directory as
// pgdock-plugin-<name>, mode 0755: a hard link when possible (no copy), a
// real copy otherwise. Tests that change the file's mode or owner use
// installCopy, which never shares the inode with bin.
func (f *fixture) install(t testing.TB, name, bin string) string {
	t.Helper()
	dst := filepath.Join(f.dir, BinaryPrefix+name)
	if os.Link(bin, dst) == nil {
		return dst
	}
	return f.installCopy(t, name, bin)
}

func (f *fixture) installCopy(t testing.TB, name, bin string) string {
	t.Helper()
	dst := filepath.Join(f.dir, BinaryPrefix+name)
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	_ = os.Remove(dst)
	require.NoError(t, os.WriteFile(dst, data, 0o755))
	require.NoError(t, os.Chmod(dst, 0o755)) // whatever the umask
	return dst
}

func (f *fixture) writeSums(t testing.TB, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, ChecksumFile), []byte(content), 0o644))
}

// start starts the manager and stops it when the test ends.
func (f *fixture) start(t *testing.T) *Manager {
	t.Helper()
	m, err := Start(testCtx(t), f.opts)
	require.NoError(t, err)
	t.Cleanup(m.Stop)
	return m
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// processesRunning lists the pids of live processes whose executable path
// (argv[0]) lies in dir: plugins a test started from its own directory.
func processesRunning(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") {
			continue // a zombie is gone already, only not yet reaped by init
		}
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); strings.HasPrefix(argv0, dir+"/") {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// groupAlive lists the live (non-zombie) members of process group pgid.
func groupAlive(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 3 || fields[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hostHelperEnv makes the test binary act as a plugin host that starts the
// plugins of the directory in it and then waits to be killed.
const hostHelperEnv = "PLUGINHOST_TEST_HOST_DIR"

func runHostHelper() {
	m, err := Start(context.Background(), Options{
		Dir:       os.Getenv(hostHelperEnv),
		SocketDir: os.Getenv("PLUGINHOST_TEST_SOCKETS"),
		Env:       map[string]string{"EXAMPLE_ENABLE": "true", "PATH": os.Getenv("PATH")},
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(m.Descriptions()[0].Pid)
	select {}
}
