package sdk

import (
	"context"

	"github.com/pgdock/pgdock/plugins/sdk/probe"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// HealthResult is a plugin's health as seen by a prober (the host or the
// healthcheck).
type HealthResult = probe.Result

// ProbeHealth asks an already running plugin for its health, using the
// reattach data the entrypoint wrote to the state file (one entry of
// state.State.Plugins). It dials the plugin's socket and makes one Health
// call; it never starts, shuts down, closes or kills the plugin (go-plugin's
// client Close would make the plugin exit). The connection it opened is
// closed before it returns.
//
// A plugin that answers gives its own verdict and err is nil (even when it
// is unhealthy). When it cannot be asked (stale state, plugin gone,
// deadline) or answers with an error, err says why and the result is
// unhealthy with err's text as Message. Bound the probe with ctx.
//
// The healthcheck should import package probe directly (probe.Health): it
// is the same function without this package's grpc-go and go-plugin
// dependencies, which cost milliseconds of process start.
func ProbeHealth(ctx context.Context, p state.Plugin) (HealthResult, error) {
	return probe.Health(ctx, p)
}
