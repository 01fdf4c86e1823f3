package sdk_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Helper binaries, built once by TestMain.
var (
	testPluginBin string // internal/testplugin: echo.Echo, configurable versions
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgdock-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPluginBin = filepath.Join(dir, "testplugin")
	builds := [][]string{
		{"go", "build", "-o", testPluginBin, "./internal/testplugin"},
	}
	for _, b := range builds {
		cmd := exec.Command(b[0], b[1:]...)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building test helper %v: %v\n%s", b, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// launch starts a plugin binary with go-plugin the way a host does and
// returns the typed client. The plugin is killed when the test ends.
func launch(t *testing.T, binary string, env ...string) (*plugin.Client, *sdk.Client) {
	t.Helper()
	c, err := tryLaunch(t, binary, env...)
	require.NoError(t, err)
	raw, err := c.Client()
	require.NoError(t, err)
	p, err := raw.Dispense(sdk.PluginName)
	require.NoError(t, err)
	client, ok := p.(*sdk.Client)
	require.True(t, ok, "dispensed %T", p)
	return c, client
}

func tryLaunch(t *testing.T, binary string, env ...string) (*plugin.Client, error) {
	t.Helper()
	cmd := exec.Command(binary)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     10 * time.Second,
		SkipHostEnv:      true,
		Logger:           hclog.NewNullLogger(),
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: t.TempDir()},
	})
	t.Cleanup(c.Kill)
	_, err := c.Start()
	return c, err
}
