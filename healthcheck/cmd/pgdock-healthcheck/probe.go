package main

import (
	"context"

	"github.com/pgdock/pgdock/healthcheck/internal/check"
	"github.com/pgdock/pgdock/plugins/sdk/probe"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// newProber returns the plugin prober backed by the SDK's probe package (one
// gRPC call made without grpc-go, so the binary starts fast): it dials
// the running plugin with the state file's reattach data and asks its
// Health hook; it never starts, closes or kills the plugin.
func newProber() check.PluginProber {
	return check.ProberFunc(func(ctx context.Context, p state.Plugin) (check.PluginHealth, error) {
		h, err := probe.Health(ctx, p)
		return check.PluginHealth{Plugin: h.Plugin, Healthy: h.Healthy, Degraded: h.Degraded, Message: h.Message, Details: h.Details}, err
	})
}
