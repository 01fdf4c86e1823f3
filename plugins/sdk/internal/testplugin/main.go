// Command testplugin serves echo.Echo as a real plugin process for the
// SDK's tests. TESTPLUGIN_VERSIONS (comma list, default "1") sets the
// protocol versions it offers, to test version negotiation.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/internal/echo"
)

func main() {
	versions := os.Getenv("TESTPLUGIN_VERSIONS")
	if versions == "" {
		sdk.Serve(&echo.Echo{})
		return
	}
	sets := map[int]plugin.PluginSet{}
	for _, s := range strings.Split(versions, ",") {
		v, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad TESTPLUGIN_VERSIONS %q\n", versions)
			os.Exit(2)
		}
		sets[v] = plugin.PluginSet{sdk.PluginName: &sdk.GRPCPlugin{Impl: &echo.Echo{}}}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sets,
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           sdk.NewLogger("testplugin"),
	})
}
