package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Build compiles the plugin command pkg (a package path or a directory such
// as "./cmd/pgdock-plugin-foo", relative to the test's package directory)
// into a temporary directory as pgdock-plugin-<name> and returns its path.
// The go command must be on PATH (it is when tests run with `go test`).
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	goTool := NeedTool(t, "go", "golang")
	out := filepath.Join(t.TempDir(), "pgdock-plugin-"+name)
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sdktest.Build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Launch starts a plugin binary the way pgdock-entrypoint does: a process
// with only PATH and env in its environment (plus go-plugin's handshake
// variables), the go-plugin handshake with the protocol versions this SDK
// supports, gRPC only. It returns the typed client; the plugin is killed when
// the test ends. A failed handshake fails the test; use it to check that a
// plugin starts at all (e.g. prints nothing to stdout before sdk.Serve).
func Launch(t testing.TB, binary string, env ...string) *sdk.Client {
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
	})
	t.Cleanup(c.Kill)
	rpc, err := c.Client()
	if err != nil {
		t.Fatalf("sdktest.Launch %s: handshake: %v", binary, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("sdktest.Launch %s: dispense: %v", binary, err)
	}
	client, ok := raw.(*sdk.Client)
	if !ok {
		t.Fatalf("sdktest.Launch %s: dispensed %T, want *sdk.Client", binary, raw)
	}
	return client
}
