package check

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/healthcheck/internal/disk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want func(*Config)
		errs []string
	}{
		{name: "defaults", want: func(*Config) {}},
		{name: "everything set", env: map[string]string{
			EnvStateDir: "/tmp/state", EnvTimeout: "2s", EnvDiskMinFreePct: "5%", EnvDiskMinFreeMB: "512",
			EnvPatroniRESTPort: "8009", EnvPGData: "/data",
		}, want: func(c *Config) {
			c.StateDir, c.Timeout, c.DefaultPGData = "/tmp/state", 2*time.Second, "/data"
			c.Disk = disk.Thresholds{MinFreePercent: 5, MinFreeBytes: 512 * disk.MiB}
			c.PatroniURL = "http://127.0.0.1:8009/health"
		}},
		{name: "timeout in plain seconds", env: map[string]string{EnvTimeout: "1.5"}, want: func(c *Config) { c.Timeout = 1500 * time.Millisecond }},
		{name: "every bad value reported at once", env: map[string]string{
			EnvTimeout: "soon", EnvDiskMinFreePct: "ten", EnvDiskMinFreeMB: "-1", EnvPatroniRESTPort: "99999",
		}, errs: []string{EnvTimeout + `="soon"`, EnvDiskMinFreePct + `="ten"`, EnvDiskMinFreeMB + `="-1"`, EnvPatroniRESTPort + `="99999"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tc.env[k] })
			if len(tc.errs) > 0 {
				for _, e := range tc.errs {
					assert.ErrorContains(t, err, e)
				}
				return
			}
			require.NoError(t, err)
			want := DefaultConfig()
			want.StateDir = state.ResolveDir("", os.Geteuid())
			tc.want(&want)
			assert.Equal(t, want, got)
			assert.NoError(t, got.Validate())
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		err  string
	}{
		{name: "defaults", edit: func(*Config) {}},
		{name: "https patroni", edit: func(c *Config) { c.PatroniURL = "https://127.0.0.1:8008/readiness" }},
		{name: "empty state dir", edit: func(c *Config) { c.StateDir = "" }, err: "state directory is empty"},
		{name: "zero timeout", edit: func(c *Config) { c.Timeout = 0 }, err: "timeout 0s: want more than 0"},
		{name: "percent out of range", edit: func(c *Config) { c.Disk.MinFreePercent = 150 }, err: "want 0 to 100"},
		{name: "NUL in host", edit: func(c *Config) { c.Host = "a\x00" }, err: "NUL"},
		{name: "patroni url without scheme", edit: func(c *Config) { c.PatroniURL = "127.0.0.1:8008" }, err: "patroni URL"},
		{name: "patroni url without host", edit: func(c *Config) { c.PatroniURL = "http:///health" }, err: "patroni URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.err)
		})
	}
}

func TestParseTimeout(t *testing.T) {
	tests := map[string]time.Duration{"5": 5 * time.Second, "0.25": 250 * time.Millisecond, "1500ms": 1500 * time.Millisecond, "1m": time.Minute}
	for in, want := range tests {
		got, err := ParseTimeout(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseTimeout("5 seconds")
	assert.ErrorContains(t, err, "want a duration")
}

// Without PGDOCK_STATE_DIR the healthcheck finds the state directory by the
// entrypoint's own rule, for its uid.
func TestFromEnvStateDirFollowsTheEntrypointsRule(t *testing.T) {
	for _, uid := range []int{0, 999, 12345} {
		c, err := fromEnv(func(string) string { return "" }, uid)
		require.NoError(t, err)
		assert.Equal(t, state.ResolveDir("", uid), c.StateDir, "uid %d", uid)
		c, err = fromEnv(func(k string) string { return map[string]string{EnvStateDir: "/srv/state"}[k] }, uid)
		require.NoError(t, err)
		assert.Equal(t, "/srv/state", c.StateDir, "uid %d", uid)
	}
	c, err := fromEnv(func(string) string { return "" }, 0)
	require.NoError(t, err)
	assert.Equal(t, "/run/pgdock", c.StateDir, "root always uses /run/pgdock")
}
