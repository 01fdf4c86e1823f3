package sdk_test

import (
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

func TestHandshakeConstants(t *testing.T) {
	h := sdk.Handshake()
	assert.Equal(t, sdk.MagicCookieKey, h.MagicCookieKey)
	assert.Equal(t, sdk.MagicCookieValue, h.MagicCookieValue)
	assert.Zero(t, h.ProtocolVersion, "versions are negotiated through VersionedPlugins")
	sets := sdk.HostPluginSets()
	for _, v := range sdk.SupportedVersions() {
		require.Contains(t, sets, v)
		assert.Contains(t, sets[v], sdk.PluginName)
	}
}
