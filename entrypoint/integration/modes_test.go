package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// These tests run the host's run modes, bootstrap providers and jobs with
// the test-only faulty plugin as a FAKE mode provider (a shell that runs
// postgres as its child: the supervised mode child is not postgres), a
// FAKE bootstrap provider (initdb run by the plugin's command) and a
// plugin with a job. See plugins/sdk/internal/faulty/fake.go.

// withFakeMode enables faulty as the FAKE mode provider of mode "fake".
func (s *site) withFakeMode(ownsBootstrap bool, kv ...string) *site {
	s.withFaulty("FAULTY_MODE", "fake", "FAULTY_MODE_FAKE", "true",
		"FAULTY_MODE_OWNS_BOOTSTRAP", boolText(ownsBootstrap), "FAULTY_MODE_ENTRYPOINT", binary,
		"FAULTY_BINDIR", s.pg.Bin.Dir, "POSTGRES_PASSWORD", "pw")
	return s.set(kv...)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (s *site) state() state.State {
	s.t.Helper()
	st, err := state.Read(s.State)
	require.NoError(s.t, err)
	return st
}

// waitState polls the state file until ok accepts it.
func (s *site) waitState(ok func(state.State) bool, d time.Duration) state.State {
	s.t.Helper()
	var last state.State
	require.Eventually(s.t, func() bool {
		st, err := state.Read(s.State)
		last = st
		return err == nil && ok(st)
	}, d, 20*time.Millisecond, "state file never matched; last: %+v", last)
	return last
}

// TestFakeModeProviderOwnsBootstrap: the host runs no initdb; the mode
// child does and calls back post-bootstrap, which creates POSTGRES_DB and
// runs the init scripts exactly once; readiness, the postmaster pid and
// the role come from ModeStatus; role changes reach the plugins; SIGTERM
// goes to the mode child only; a restart runs nothing again.
func TestFakeModeProviderOwnsBootstrap(t *testing.T) {
	s := newSite(t)
	roleFile := filepath.Join(s.base, "role")
	s.withFakeMode(true, "FAULTY_MODE_ROLE_FILE", roleFile, "POSTGRES_DB", "app", "TIMEOUT", "20")
	s.script("01-once.sql", "CREATE TABLE once (n int); INSERT INTO once VALUES (1);", 0o644)
	p := s.start()
	p.ready()
	out := p.out.String()
	assert.Contains(t, out, "the mode provider owns bootstrap")
	assert.Contains(t, out, "fake mode: running initdb myself")
	assert.Contains(t, out, "first-boot steps completed")
	assert.NotContains(t, out, "PostgreSQL init process complete", "the host ran a first boot of its own")
	assert.Equal(t, "1", s.query("postgres", "pw", "app", "SELECT count(*)::text FROM once"))
	assert.True(t, fileExists(filepath.Join(s.PGData, "pgdock_post_bootstrap_done")))

	st := s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning }, 10*time.Second)
	assert.Equal(t, "fake", st.Mode)
	assert.Equal(t, "primary", st.Role)
	assert.Positive(t, st.ModeChildPID)
	assert.Equal(t, postmasterPID(s.PGData), st.PostmasterPID)
	assert.NotEqual(t, st.ModeChildPID, st.PostmasterPID, "the mode child is not postgres")
	require.NotEmpty(t, st.HooksSocket)

	// the mode child got the merged configuration and the hooks socket
	environ, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(st.ModeChildPID), "environ"))
	require.NoError(t, err)
	assert.Contains(t, string(environ), "FAKE_MERGED_PORT="+strconv.Itoa(s.Port)+"\x00")
	assert.Contains(t, string(environ), "PGDOCK_HOOKS_SOCKET="+st.HooksSocket+"\x00")

	// the healthcheck works for a mode child too
	for _, check := range []string{"readiness", "liveness", "startup", "postgresql", "process"} {
		code, line := s.health(check)
		assert.Equal(t, 0, code, "%s: %s", check, line)
	}

	// the callback runs once per cluster: a second call does nothing
	hook := exec.Command(binary, "hook", "post-bootstrap", "dbname=postgres")
	hook.Env = []string{"PGDOCK_STATE_DIR=" + s.State, "PATH=" + os.Getenv("PATH")}
	hookOut, err := hook.CombinedOutput()
	require.NoError(t, err, string(hookOut))
	assert.Contains(t, string(hookOut), "already done")
	assert.Equal(t, "1", s.query("postgres", "pw", "app", "SELECT count(*)::text FROM once"))

	// role changes come from ModeStatus and reach every plugin
	require.NoError(t, os.WriteFile(roleFile, []byte("replica\n"), 0o644))
	s.waitState(func(st state.State) bool { return st.Role == "replica" }, 10*time.Second)
	p.waitFor("role changed", 2, 10*time.Second) // the host's line and the plugin's
	require.NoError(t, os.WriteFile(roleFile, []byte("primary\n"), 0o644))
	s.waitState(func(st state.State) bool { return st.Role == "primary" }, 10*time.Second)

	pm := postmasterPID(s.PGData)
	began := time.Now()
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))
	assert.Less(t, time.Since(began), 20*time.Second)
	out = p.out.String()
	assert.Contains(t, out, "fake mode: stop requested", "SIGTERM reached the mode child")
	assert.Contains(t, out, "received fast shutdown request", "the mode child stopped postgres (with SIGINT)")
	assert.NotContains(t, out, "received smart shutdown request", "postgres got SIGTERM directly")
	assert.True(t, gone(pm))
	assert.Equal(t, state.PhaseStopped, s.state().Phase)

	// restart: nothing of the first boot runs again
	s.script("02-again.sql", "INSERT INTO once VALUES (2);", 0o644)
	p2 := s.start()
	p2.ready()
	assert.NotContains(t, p2.out.String(), "running initdb myself")
	assert.NotContains(t, p2.out.String(), "first-boot steps completed")
	assert.Equal(t, "1", s.query("postgres", "pw", "app", "SELECT count(*)::text FROM once"))
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
}

// TestInitRefusedWhenTheModeProviderOwnsBootstrap: `init` would create a
// cluster the provider must create itself.
func TestInitRefusedWhenTheModeProviderOwnsBootstrap(t *testing.T) {
	s := newSite(t)
	s.withFakeMode(true)
	code, out := s.run("init")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "plugin faulty provides the run mode and creates the cluster itself")
	assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")))
}

// TestFakeModeHostBootstrapThenChildDeath: a provider that does not own
// bootstrap gets the host's usual first boot; the mode child's death ends
// the entrypoint with a non-zero status and nothing of its group survives.
func TestFakeModeHostBootstrapThenChildDeath(t *testing.T) {
	s := newSite(t)
	s.withFakeMode(false, "POSTGRES_DB", "app")
	s.script("01.sql", "CREATE TABLE t (n int);", 0o644)
	p := s.start()
	p.ready()
	assert.Contains(t, p.out.String(), "PostgreSQL init process complete")
	assert.NotContains(t, p.out.String(), "running initdb myself")
	assert.Equal(t, "0", s.query("postgres", "pw", "app", "SELECT count(*)::text FROM t"))
	st := s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning && st.PostmasterPID > 0 }, 10*time.Second)
	pm := st.PostmasterPID
	// SIGHUP: the managed files are regenerated and the mode child reloads
	p.signal(syscall.SIGHUP)
	p.waitFor("fake mode: reload", 1, 10*time.Second)
	p.waitFor("received SIGHUP, reloading configuration files", 1, 10*time.Second)
	assert.Contains(t, p.out.String(), "configuration reloaded (SIGHUP sent to the mode child)")
	require.NoError(t, syscall.Kill(st.ModeChildPID, syscall.SIGKILL))
	code := p.wait(30 * time.Second)
	assert.NotEqual(t, 0, code)
	assert.Contains(t, p.out.String(), "the mode child exited unexpectedly")
	require.Eventually(t, func() bool { return gone(pm) }, 10*time.Second, 20*time.Millisecond, "the postmaster outlived its mode child")
}

// TestFakeModeChildIgnoringSIGTERMIsKilledInsideTimeout.
func TestFakeModeChildIgnoringSIGTERMIsKilledInsideTimeout(t *testing.T) {
	s := newSite(t)
	s.withFakeMode(false, "TIMEOUT", "4")
	p := s.start()
	p.ready()
	st := s.waitState(func(st state.State) bool { return st.Phase == state.PhaseRunning }, 10*time.Second)
	// make the mode child deaf to SIGTERM: replace its trap by stopping it
	// (a stopped process does not act on SIGTERM until continued)
	require.NoError(t, syscall.Kill(st.ModeChildPID, syscall.SIGSTOP))
	began := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(30 * time.Second)
	assert.Less(t, time.Since(began), 4*time.Second)
	assert.Equal(t, 1, code)
	assert.Contains(t, p.out.String(), "the mode child did not stop in time; SIGKILL")
	require.Eventually(t, func() bool { return gone(st.PostmasterPID) }, 10*time.Second, 20*time.Millisecond)
}

// TestFakeBootstrapProvider: a plugin's command replaces initdb; the first
// boot continues as usual (POSTGRES_DB created) but init scripts are not
// run for a provided cluster; a restart does not provide again.
func TestFakeBootstrapProvider(t *testing.T) {
	s := newSite(t)
	s.withFaulty("FAULTY_PROVIDE_BOOTSTRAP", "true", "FAULTY_BINDIR", s.pg.Bin.Dir, "POSTGRES_PASSWORD", "pw", "POSTGRES_DB", "app")
	s.script("01.sql", "CREATE TABLE t (n int);", 0o644)
	p := s.start()
	p.ready()
	out := p.out.String()
	assert.Contains(t, out, "a plugin provides the first boot instead of initdb")
	assert.Contains(t, out, "init scripts are not run for a cluster a plugin provided")
	data, err := os.ReadFile(filepath.Join(s.PGData, "pgdock_bootstrap_provided.json"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "faulty fake bootstrap")
	assert.Equal(t, "app", s.query("postgres", "pw", "app", "SELECT current_database()"))
	assert.Equal(t, "0", s.query("postgres", "pw", "app", "SELECT count(*)::text FROM pg_class WHERE relname = 't'"))
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(30*time.Second))

	p2 := s.start()
	p2.ready()
	assert.NotContains(t, p2.out.String(), "provides the first boot")
	p2.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p2.wait(30*time.Second))
}

// TestJobRunsEverySecondAndStopsInsideTimeout: a plugin's job runs every
// second through the host (direct mode), its output reaches the log, and a
// run that ignores SIGTERM is killed inside TIMEOUT at shutdown.
func TestJobRunsEverySecondAndStopsInsideTimeout(t *testing.T) {
	s := newSite(t)
	ticks := filepath.Join(s.base, "ticks")
	require.NoError(t, os.WriteFile(ticks, nil, 0o666))
	require.NoError(t, os.Chmod(ticks, 0o666))
	s.withFaulty("FAULTY_JOB_SCHEDULE", "@every 1s", "POSTGRES_PASSWORD", "pw", "TIMEOUT", "6",
		"FAULTY_JOB_COMMAND", "echo tick >> "+ticks+"; echo job says hi; if [ $(wc -l < "+ticks+") -ge 3 ]; then trap '' TERM; while :; do sleep 0.1; done; fi")
	p := s.start()
	p.ready()
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(ticks)
		return strings.Count(string(data), "\n") >= 3
	}, 20*time.Second, 50*time.Millisecond)
	out := p.out.String()
	assert.Contains(t, out, "job says hi")
	assert.Contains(t, out, "job finished")
	// the plugin's health reports its job's last result, also to the
	// healthcheck, which probes the plugin without passing results
	require.Eventually(t, func() bool {
		_, line := s.health("readiness", "--format", "json")
		return strings.Contains(line, `"job.tick":"exit=0 running=`)
	}, 10*time.Second, 100*time.Millisecond)
	p.waitFor("job tick skipped: the previous run is still running", 1, 10*time.Second)
	began := time.Now()
	p.signal(syscall.SIGTERM)
	p.wait(30 * time.Second)
	assert.Less(t, time.Since(began), 6*time.Second)
	assert.Contains(t, p.out.String(), "stopped at shutdown")
	assert.Eventually(t, func() bool { return len(processesNamed("echo tick >> "+ticks)) == 0 }, 5*time.Second, 20*time.Millisecond, "a job process survived")
}

// TestBadJobScheduleIsAValidationError: nothing is initialised.
func TestBadJobScheduleIsAValidationError(t *testing.T) {
	s := newSite(t)
	s.withFaulty("FAULTY_JOB_SCHEDULE", "61 * * * *", "FAULTY_JOB_COMMAND", "true", "POSTGRES_PASSWORD", "pw")
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "plugin faulty: job tick: invalid schedule")
	assert.False(t, fileExists(filepath.Join(s.PGData, "PG_VERSION")), "initdb ran")
}

// TestBadPluginHBARuleNamesThePlugin: plugin rules go through the
// PG_HBA_ADD_<n> validator.
func TestBadPluginHBARuleNamesThePlugin(t *testing.T) {
	s := newSite(t)
	s.withFaulty("FAULTY_HBA", "host all all 10.0.0.0/8 nosuchmethod", "POSTGRES_PASSWORD", "pw")
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "plugin faulty: invalid pg_hba rule")
}

// processesNamed lists live processes whose command line contains every
// word (a job's leftovers).
func processesNamed(words ...string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		c := strings.ReplaceAll(string(cmdline), "\x00", " ")
		all := true
		for _, w := range words {
			if !strings.Contains(c, w) {
				all = false
			}
		}
		if all && !strings.Contains(c, "go test") {
			out = append(out, c)
		}
	}
	return out
}
