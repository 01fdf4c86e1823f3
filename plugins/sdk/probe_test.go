package sdk_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

func TestProbeHealthLeavesThePluginRunning(t *testing.T) {
	pc, client := launch(t, testPluginBin)
	rc := pc.ReattachConfig()
	require.NotNil(t, rc)
	entry := state.Plugin{Name: "echo", Version: "1.2.3", Reattach: state.Reattach{
		Protocol:        string(rc.Protocol),
		ProtocolVersion: pc.NegotiatedVersion(),
		Network:         rc.Addr.Network(),
		Address:         rc.Addr.String(),
		Pid:             rc.Pid,
	}}

	for i := range 3 {
		res, err := sdk.ProbeHealth(ctx(t), entry)
		require.NoError(t, err, "probe %d", i)
		assert.Equal(t, "echo", res.Plugin)
		assert.True(t, res.Healthy)
		assert.Equal(t, "echo", res.Message)
	}
	// echo.Echo turns unhealthy once its Stopping hook ran.
	require.NoError(t, client.Stopping(ctx(t)))
	res, err := sdk.ProbeHealth(ctx(t), entry)
	require.NoError(t, err, "an unhealthy answer is still an answer")
	assert.False(t, res.Healthy)

	// The plugin is still alive and still serves its host.
	assert.False(t, pc.Exited())
	require.NoError(t, syscall.Kill(rc.Pid, 0))
	_, err = client.Health(ctx(t))
	require.NoError(t, err)
}

// BenchmarkProbeHealth is the healthcheck's per-plugin cost: dial the
// plugin's socket, one Health call, close.
func BenchmarkProbeHealth(b *testing.B) {
	cmd := exec.Command(testPluginBin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SkipHostEnv:      true,
		Logger:           hclog.NewNullLogger(),
	})
	defer pc.Kill()
	if _, err := pc.Start(); err != nil {
		b.Fatal(err)
	}
	rc := pc.ReattachConfig()
	entry := state.Plugin{Name: "echo", Reattach: state.Reattach{
		Protocol: string(rc.Protocol), ProtocolVersion: pc.NegotiatedVersion(),
		Network: rc.Addr.Network(), Address: rc.Addr.String(), Pid: rc.Pid,
	}}
	for b.Loop() {
		if res, err := sdk.ProbeHealth(b.Context(), entry); err != nil || !res.Healthy {
			b.Fatal(res, err)
		}
	}
}
