package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

func (s *site) withExample(kv ...string) *site {
	s.set("PGDOCK_PLUGIN_DIR", pluginDir, "EXAMPLE_ENABLE", "true")
	return s.set(kv...)
}

// withFaulty enables the test-only faulty plugin (its FAULTY_* knobs inject
// faults) from a directory of its own.
func (s *site) withFaulty(kv ...string) *site {
	s.set("PGDOCK_PLUGIN_DIR", faultyPluginDir(s.t), "FAULTY_ENABLE", "true")
	return s.set(kv...)
}

// pluginBuild builds one plugin once into a plugin directory of its own
// (<name>-plugins beside the example's), with its SHA256SUMS.
type pluginBuild struct {
	name   string // the binary is pgdock-plugin-<name>
	module string // go build -C <module> …, with or without go.work
	pkg    string

	once sync.Once
	dir  string
	err  error
}

// Dir builds the plugin on first use and returns its plugin directory.
func (b *pluginBuild) Dir(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		dir := filepath.Join(filepath.Dir(pluginDir), b.name+"-plugins")
		if b.err = os.MkdirAll(dir, 0o755); b.err != nil {
			return
		}
		build := exec.Command("go", "build", "-C", b.module, "-o", filepath.Join(dir, "pgdock-plugin-"+b.name), b.pkg)
		if out, err := build.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build the %s plugin: %w\n%s", b.name, err, out)
			return
		}
		sum := exec.Command("sh", "-c", "sha256sum pgdock-plugin-* > SHA256SUMS")
		sum.Dir = dir
		if out, err := sum.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("checksums: %w\n%s", err, out)
			return
		}
		b.dir = dir
	})
	require.NoError(t, b.err)
	return b.dir
}

// faulty is the test-only plugin plugins/sdk/internal/faulty.
var faulty = &pluginBuild{name: "faulty", module: "../../plugins/sdk", pkg: "./internal/faulty"}

// faultyPluginDir is the faulty plugin's directory (built once).
func faultyPluginDir(t *testing.T) string { return faulty.Dir(t) }

// pluginProcesses lists the live processes whose argv[0] is binary.
func pluginProcesses(binary string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if argv0, _, _ := strings.Cut(string(cmdline), "\x00"); argv0 == binary && !zombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (s *site) readState(t *testing.T) state.State {
	t.Helper()
	st, err := state.Read(s.State)
	require.NoError(t, err)
	return st
}

func (s *site) health(args ...string) (int, string) {
	cmd := exec.Command(healthcheck, append([]string{"--state-dir", s.State}, args...)...)
	out, _ := cmd.CombinedOutput()
	return cmd.ProcessState.ExitCode(), strings.TrimSpace(string(out))
}

func pluginPIDs(st state.State) []int {
	var pids []int
	for _, p := range st.Plugins {
		pids = append(pids, p.Reattach.Pid)
	}
	return pids
}

func assertGone(t *testing.T, pids []int) {
	t.Helper()
	require.NotEmpty(t, pids)
	require.Eventually(t, func() bool {
		for _, pid := range pids {
			if alive(pid) && !zombie(pid) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "plugin processes %v still running", pids)
}

func zombie(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return true
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestExamplePluginEveryHookAndCleanStop(t *testing.T) {
	s := newSite(t).withExample("POSTGRES_PASSWORD", "secret", "EXAMPLE_GREETING", "hi there", "NOT_FOR_PLUGINS", "x")
	fail := filepath.Join(s.base, "health-fail")
	s.set("EXAMPLE_HEALTH_FAIL_FILE", fail)
	p := s.start()
	p.ready()
	out := p.out.String()
	assert.Equal(t, 1, strings.Count(out, "plugin started"), "one plugin, one \"plugin started\" line:\n%s", out)
	// configure: the setting and the hba rule reached the managed files
	assert.Equal(t, "hi there", s.query("postgres", "secret", "postgres", "SHOW pgdock_example.greeting"))
	hba, err := os.ReadFile(filepath.Join(s.PGData, "pgdock_hba.conf"))
	require.NoError(t, err)
	assert.Contains(t, string(hba), "host all all 192.0.2.0/24 reject")
	// bootstrap ran once
	assert.Equal(t, "1", s.query("postgres", "secret", "postgres", "SELECT count(*)::text FROM pgdock_example_bootstrap"))
	// health reaches the healthcheck through the running plugin
	st := s.readState(t)
	require.Len(t, st.Plugins, 1)
	assert.Equal(t, "example", st.Plugins[0].Name)
	code, line := s.health("readiness")
	assert.Equal(t, 0, code, line)
	require.NoError(t, os.WriteFile(fail, nil, 0o644))
	code, line = s.health("readiness")
	assert.Equal(t, 1, code, line)
	assert.Contains(t, line, "example")
	require.NoError(t, os.Remove(fail))
	assert.True(t, alive(st.Plugins[0].Reattach.Pid), "a probe never kills the plugin")

	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
	assertGone(t, pluginPIDs(st))

	// restart: the bootstrap hook does not run again
	p2 := s.start()
	p2.ready()
	assert.Equal(t, "1", s.query("postgres", "secret", "postgres", "SELECT count(*)::text FROM pgdock_example_bootstrap"))
	st2 := s.readState(t)
	p2.signal(syscall.SIGINT)
	assert.Equal(t, 0, p2.wait(30*time.Second))
	assertGone(t, pluginPIDs(st2))
}

func TestPluginsGoneAfterPostgresCrash(t *testing.T) {
	s := newSite(t).withExample("POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	st := s.readState(t)
	require.NoError(t, syscall.Kill(st.PostmasterPID, syscall.SIGKILL))
	assert.Equal(t, 128+9, p.wait(15*time.Second))
	assertGone(t, pluginPIDs(st))
}

func TestPluginsGoneAfterEntrypointError(t *testing.T) {
	// A failing init script ends the entrypoint with an error after the plugins started.
	s := newSite(t).withExample("POSTGRES_PASSWORD", "secret")
	s.script("01-bad.sql", "SELECT broken(;", 0o644)
	p := s.start()
	p.waitFor("plugin started", 1, 30*time.Second)
	var pids []int
	require.Eventually(t, func() bool {
		st, err := state.Read(s.State)
		if err != nil || len(st.Plugins) == 0 {
			return false
		}
		pids = pluginPIDs(st)
		return true
	}, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, p.wait(60*time.Second))
	assertGone(t, pids)
}

func TestPluginCrashPolicies(t *testing.T) {
	t.Run("fail stops PostgreSQL", func(t *testing.T) {
		// The crash comes after the Started hook, so the real server is up
		// whatever the machine's load (a timer could fire during initdb).
		s := newSite(t).withFaulty("POSTGRES_PASSWORD", "secret", "FAULTY_CRASH_AFTER_STARTED", "200ms")
		p := s.start()
		p.waitFor("plugin crashed; stopping PostgreSQL", 1, 60*time.Second)
		code := p.wait(60 * time.Second)
		assert.Equal(t, 1, code)
		out := p.out.String()
		assert.Contains(t, out, "plugin crashed; stopping PostgreSQL (crash policy fail)")
		assert.Contains(t, out, "received fast shutdown request")
	})
	t.Run("continue keeps PostgreSQL", func(t *testing.T) {
		// The crash comes after the Started hook, so after the first boot and
		// readiness whatever the machine's load.
		s := newSite(t).withFaulty("POSTGRES_PASSWORD", "secret", "FAULTY_CRASH_AFTER_STARTED", "200ms", "FAULTY_CRASH_POLICY", "continue")
		p := s.start()
		p.ready()
		p.waitFor("crash policy continue", 1, 60*time.Second)
		assert.False(t, p.exited())
		assert.Equal(t, "1", s.query("postgres", "secret", "postgres", "SELECT 1::text"))
		code, line := s.health("readiness")
		assert.Equal(t, 1, code, "the crashed plugin makes the container unhealthy: %s", line)
		p.signal(syscall.SIGTERM)
		assert.Equal(t, 0, p.wait(30*time.Second))
	})
}

func TestPluginChecksumMismatchAndAbsent(t *testing.T) {
	bad, err := os.MkdirTemp("", "pgd-plugins-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(bad) })
	require.NoError(t, os.Chmod(bad, 0o755))
	data, err := os.ReadFile(filepath.Join(pluginDir, "pgdock-plugin-example"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bad, "pgdock-plugin-example"), data, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "SHA256SUMS"), []byte(strings.Repeat("0", 64)+"  pgdock-plugin-example\n"), 0o644))

	s := newSite(t).set("POSTGRES_PASSWORD", "secret", "EXAMPLE_ENABLE", "on", "PGDOCK_PLUGIN_DIR", bad)
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "checksum")
	assert.NotContains(t, out, readyLine)

	s2 := newSite(t)
	s2.set("POSTGRES_PASSWORD", "secret", "EXAMPLE_ENABLE", "1", "PGDOCK_PLUGIN_DIR", s2.Initdb) // a directory without the plugin
	code, out = s2.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "pgdock-plugin-example is not in the plugin directory")
}

func TestPluginValidationFailsBeforeStart(t *testing.T) {
	s := newSite(t).withExample("POSTGRES_PASSWORD", "secret", "EXAMPLE_GREETING", strings.Repeat("x", 65))
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "EXAMPLE_GREETING")
	assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "nothing initialised")
}

func TestConfigRenderAsksPlugins(t *testing.T) {
	s := newSite(t).withExample("POSTGRES_PASSWORD", "secret")
	code, out := s.run("config", "render")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "pgdock_example.greeting = 'hello'")
	assert.Contains(t, out, "host all all 192.0.2.0/24 reject")
	assert.Contains(t, out, "example.conf")
}

// A stop (SIGTERM) while a plugin hangs before its handshake is honoured at
// once, well inside TIMEOUT, not after the plugin start timeout; the plugin
// (which ignores SIGTERM) is killed with its process group.
func TestStopDuringPluginHandshake(t *testing.T) {
	s := newSite(t).withFaulty("POSTGRES_PASSWORD", "secret", "TIMEOUT", "3",
		"FAULTY_HANG_AT_START", "1m", "FAULTY_IGNORE_TERM", "true")
	bin := filepath.Join(faultyPluginDir(t), "pgdock-plugin-faulty")
	p := s.start()
	var pids []int
	require.Eventually(t, func() bool { pids = pluginProcesses(bin); return len(pids) > 0 || p.exited() },
		30*time.Second, 5*time.Millisecond, "the plugin never started")
	require.False(t, p.exited(), "entrypoint exited early:\n%s", p.out.String())
	begin := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(10 * time.Second)
	took := time.Since(begin)
	t.Logf("exit %s after SIGTERM", took)
	assert.Less(t, took, 1500*time.Millisecond, "exit after SIGTERM took %s", took)
	assert.Equal(t, 1, code)
	out := p.out.String()
	assert.Contains(t, out, "stop requested while the plugins were starting")
	assert.NotContains(t, out, "no handshake within", "the start timeout was not waited for")
	assertGone(t, pids)
	assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "nothing initialised")
}

// A plugin that is a symbolic link, or a plugin directory others may write,
// is refused before anything starts, naming the fix.
func TestUnsafePluginDirectoryRefused(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    []string
	}{
		{name: "symlinked plugin", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink(filepath.Join(pluginDir, "pgdock-plugin-example"), filepath.Join(dir, "pgdock-plugin-example")))
		}, want: []string{"is a symbolic link", "replace the link"}},
		{name: "group-writable directory", prepare: func(t *testing.T, dir string) {
			copyPluginFile(t, filepath.Join(pluginDir, "pgdock-plugin-example"), filepath.Join(dir, "pgdock-plugin-example"), 0o755)
			require.NoError(t, os.Chmod(dir, 0o775))
		}, want: []string{"writable by its group or others", "chmod go-w " + "DIR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "pgd-plugins-")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(dir) })
			require.NoError(t, os.Chmod(dir, 0o755))
			copyPluginFile(t, filepath.Join(pluginDir, "SHA256SUMS"), filepath.Join(dir, "SHA256SUMS"), 0o644)
			tt.prepare(t, dir)
			s := newSite(t).set("POSTGRES_PASSWORD", "secret", "EXAMPLE_ENABLE", "true", "PGDOCK_PLUGIN_DIR", dir)
			code, out := s.run()
			assert.Equal(t, 1, code)
			for _, w := range tt.want {
				assert.Contains(t, out, strings.ReplaceAll(w, "DIR", dir))
			}
			assert.NotContains(t, out, "plugin started")
			assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "nothing initialised")
		})
	}
}

func copyPluginFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, data, mode))
	require.NoError(t, os.Chmod(to, mode))
}
