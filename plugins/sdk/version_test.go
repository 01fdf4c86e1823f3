package sdk_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestVersionNegotiation(t *testing.T) {
	tests := []struct {
		name     string
		offered  string // TESTPLUGIN_VERSIONS; empty = sdk.Serve
		want     int
		wantErrs []string
	}{
		{name: "sdk.Serve speaks the current version", want: sdk.ProtocolVersion},
		{name: "newest shared version wins", offered: "1,2", want: 1},
		{name: "only an unknown version", offered: "99", wantErrs: []string{"incompatible API version", "Plugin version: 99", "[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env []string
			if tt.offered != "" {
				env = append(env, "TESTPLUGIN_VERSIONS="+tt.offered)
			}
			c, err := tryLaunch(t, testPluginBin, env...)
			if len(tt.wantErrs) > 0 {
				require.Error(t, err)
				for _, s := range tt.wantErrs {
					assert.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.NegotiatedVersion())
		})
	}
}

// The wire contract between pgdock-entrypoint and every plugin binary ever
// built: a change to any of these values makes existing plugins and hosts
// refuse each other, so it must be a deliberate protocol change. The test
// uses literals on purpose.
const (
	wireCookieKey   = "PGDOCK_PLUGIN_MAGIC_COOKIE"
	wireCookieValue = "b7e1f3c2-pgdock-plugin-9d4a"
	wireProtocol    = 1
	wirePluginName  = "pgdock"
)

func TestHandshakeWireContract(t *testing.T) {
	assert.Equal(t, wireCookieKey, sdk.MagicCookieKey)
	assert.Equal(t, wireCookieValue, sdk.MagicCookieValue)
	assert.Equal(t, wireProtocol, sdk.ProtocolVersion)
	assert.Equal(t, wirePluginName, sdk.PluginName)
	assert.Equal(t, []int{wireProtocol}, sdk.SupportedVersions())
	h := sdk.Handshake()
	assert.Equal(t, wireCookieKey, h.MagicCookieKey)
	assert.Equal(t, wireCookieValue, h.MagicCookieValue)
	assert.Zero(t, h.ProtocolVersion, "versions are negotiated through VersionedPlugins")

	// A real plugin process, started with the literal contract values,
	// answers with go-plugin's handshake line:
	// CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDRESS|PROTOCOL.
	tests := []struct {
		name     string
		env      []string
		wantLine []string // fields other than the address; nil: the plugin refuses
	}{
		{name: "contract values", env: []string{wireCookieKey + "=" + wireCookieValue, "PLUGIN_PROTOCOL_VERSIONS=1"},
			wantLine: []string{"1", "1", "unix", "grpc"}},
		{name: "wrong cookie", env: []string{wireCookieKey + "=something-else", "PLUGIN_PROTOCOL_VERSIONS=1"}},
		{name: "no cookie", env: []string{"PLUGIN_PROTOCOL_VERSIONS=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(testPluginBin)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PLUGIN_UNIX_SOCKET_DIR=" + t.TempDir()}, tt.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			line, _ := bufio.NewReader(out).ReadString('\n')
			if tt.wantLine == nil {
				assert.Empty(t, line, "a plugin without the cookie must not handshake")
				assert.Error(t, cmd.Wait(), "and must exit with an error")
				assert.Contains(t, stderr.String(), "not meant to be executed directly")
				return
			}
			f := strings.Split(strings.TrimSpace(line), "|")
			require.GreaterOrEqual(t, len(f), 5, "handshake line %q", line)
			assert.Equal(t, tt.wantLine, []string{f[0], f[1], f[2], f[4]}, "handshake line %q", line)
		})
	}
}
