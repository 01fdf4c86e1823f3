package integration

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
