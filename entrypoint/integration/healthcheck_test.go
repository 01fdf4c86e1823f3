package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// The healthcheck follows the real entrypoint's lifecycle: not fooled by the
// temporary server, ready when running, unhealthy after the stop.
func TestHealthcheckFollowsTheLifecycle(t *testing.T) {
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	s.script("01-wait.sh", "#!/bin/sh\necho init-script-waiting\nsleep 2\n", 0o755)
	p := s.start()
	p.waitFor("init-script-waiting", 1, 60*time.Second)
	code, line := s.health("readiness")
	assert.Equal(t, 1, code, line)
	assert.Contains(t, line, "bootstrapping")
	code, line = s.health("startup")
	assert.Equal(t, 1, code, line)

	p.ready()
	for _, check := range []string{"readiness", "liveness", "startup", "postgresql", "process", "comprehensive"} {
		code, line = s.health(check)
		assert.Equal(t, 0, code, "%s: %s", check, line)
	}
	code, line = s.health("readiness", "--format", "json")
	assert.Equal(t, 0, code)
	assert.Contains(t, line, `"healthy":true`)

	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(30*time.Second))
	// After a clean stop the entrypoint's last word is phase stopped: the
	// healthcheck says so, not "stale state file".
	for _, check := range []string{"readiness", "liveness", "startup", "postgresql"} {
		code, line = s.health(check)
		assert.Equal(t, 1, code, "%s after stop: %s", check, line)
		assert.Regexp(t, `^FAIL `+check+`: stopped: entrypoint pid \d+ exited after recording phase stopped`, line)
	}
}

func TestHealthcheckInSleepMode(t *testing.T) {
	s := newSite(t)
	s.set("SLEEP_MODE", "true")
	p := s.start()
	p.waitFor("sleep mode", 1, 10*time.Second)
	require.Eventually(t, func() bool { c, _ := s.health("liveness"); return c == 0 }, 5*time.Second, 20*time.Millisecond)
	code, line := s.health("readiness")
	assert.Equal(t, 1, code, line)
	assert.Contains(t, line, "sleep")
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 0, p.wait(5*time.Second))
}

// The healthcheck run as any uid against the real entrypoint (pgdock's own
// pg_hba "local all all peer map=pgdock" and ident map): every probe is
// healthy and the server logs no FATAL — an OS user outside the ident map
// (1000:1000, or 12345:0 without a passwd entry, as with docker --user)
// used to add "Peer authentication failed" to the log on every probe.
func TestHealthcheckAsAnyUIDLogsNoFatal(t *testing.T) {
	testpg.NeedRoot(t, "runs the healthcheck as other uids")
	s := newSite(t)
	s.set("POSTGRES_PASSWORD", "secret")
	p := s.start()
	p.ready()
	// Let the other uids read the state and run the binary (the test's own
	// directories are private); the server's directories stay as pgdock made them.
	require.NoError(t, os.Chmod(s.State, 0o755))
	require.NoError(t, os.Chmod(filepath.Join(s.State, "state.json"), 0o644))
	bin := filepath.Join(s.base, "pgdock-healthcheck")
	data, err := os.ReadFile(healthcheck)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, data, 0o755))

	before := len(p.out.String())
	for _, cred := range []*syscall.Credential{nil, s.pg.Credential, {Uid: 1000, Gid: 1000}, {Uid: 12345, Gid: 0}} {
		for _, check := range []string{"readiness", "postgresql", "comprehensive"} {
			cmd := exec.Command(bin, "--state-dir", s.State, "--disk-min-free-percent", "0", "--disk-min-free-mb", "0", check)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			cmd.Dir = "/"
			out, _ := cmd.CombinedOutput()
			assert.Equal(t, 0, cmd.ProcessState.ExitCode(), "as %+v: %s", cred, out)
		}
	}
	// A marker error logged after the probes: once it has come through the
	// entrypoint's output, everything the probes made the server log has.
	psql := exec.Command(filepath.Join(s.pg.Bin.Dir, "psql"), "-X", "-h", s.Socket, "-p", strconv.Itoa(s.Port), "-U", "postgres", "-d", "postgres",
		"-c", "select pgdock_probe_marker")
	_, _ = psql.CombinedOutput() // fails on purpose
	p.waitFor("pgdock_probe_marker", 1, 10*time.Second)
	log := p.out.String()[before:]
	assert.NotContains(t, log, "FATAL")
	assert.NotContains(t, log, "authentication failed")
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(30*time.Second))
}
