package pgbackrest

import (
	"context"
	"os"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Name is the plugin's name: pgdock-plugin-pgbackrest.
const Name = "pgbackrest"

// Version is the plugin's own version.
const Version = "0.1.0"

// Plugin is the pgbackrest plugin.
type Plugin struct {
	sdk.Base
	log    hclog.Logger
	getenv func(string) string
}

// New returns the plugin.
func New(log hclog.Logger, getenv func(string) string) *Plugin {
	return &Plugin{log: log, getenv: getenv}
}

// Main serves the plugin to the pgdock-entrypoint that started it.
func Main() {
	sdk.Serve(New(sdk.NewLogger(Name), os.Getenv))
}

// Describe declares the plugin.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: Name, Version: Version}, nil
}
