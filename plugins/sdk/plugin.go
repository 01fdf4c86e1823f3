package sdk

import "context"

// Plugin is what a plugin author implements. Every method is a hook the host
// calls (see docs/plugins.md for the order); embed Base to get neutral
// defaults for the hooks a plugin does not need. Returned errors reach the
// user, prefixed with the plugin and hook name, so make them actionable.
//
// The host-side *Client implements Plugin too, so host code can be tested
// against an in-process fake.
type Plugin interface {
	// Describe returns static facts about the plugin. It is called once,
	// right after the handshake, and must not depend on the environment.
	Describe(ctx context.Context) (Description, error)
	// Validate checks the plugin's declared variables; report every problem.
	Validate(ctx context.Context, env map[string]string) ([]Problem, error)
	// Configure returns settings, pg_hba rules and files. Every boot.
	Configure(ctx context.Context, req ConfigureRequest) (Configuration, error)
	// Bootstrap runs once on first boot while the temporary socket-only
	// server is up.
	Bootstrap(ctx context.Context, req HookRequest) error
	// Started runs after the real server reported ready.
	Started(ctx context.Context, req HookRequest) error
	// Health must be cheap; the healthcheck calls it on every probe.
	Health(ctx context.Context) (Health, error)
	// Stopping runs when shutdown begins, before PostgreSQL stops.
	Stopping(ctx context.Context) error
	// ModeCommand returns the command the host supervises instead of
	// postgres. Only called when Description.ProvidesMode is set.
	ModeCommand(ctx context.Context, req ModeCommandRequest) (*Command, error)
}

// Base implements every hook but Describe with a neutral answer: no
// problems, no configuration, nothing to do, healthy, no mode command.
type Base struct{}

// Validate reports no problems.
func (Base) Validate(context.Context, map[string]string) ([]Problem, error) { return nil, nil }

// Configure contributes nothing.
func (Base) Configure(context.Context, ConfigureRequest) (Configuration, error) {
	return Configuration{}, nil
}

// Bootstrap does nothing.
func (Base) Bootstrap(context.Context, HookRequest) error { return nil }

// Started does nothing.
func (Base) Started(context.Context, HookRequest) error { return nil }

// Health reports healthy.
func (Base) Health(context.Context) (Health, error) { return Health{Healthy: true}, nil }

// Stopping does nothing.
func (Base) Stopping(context.Context) error { return nil }

// ModeCommand provides no mode.
func (Base) ModeCommand(context.Context, ModeCommandRequest) (*Command, error) { return nil, nil }

// Optional hooks. A plugin implements them when it needs them; the SDK's
// server answers neutrally for a plugin that does not (RoleChanged: nothing
// to do; Health with jobs: falls back to Health; ModeStatus and
// BootstrapProvide: gRPC Unimplemented). The host-side *Client implements
// every one of them.

// ModeStatusReporter is implemented by a mode provider: the host polls it
// while the mode command runs.
type ModeStatusReporter interface {
	ModeStatus(ctx context.Context) (ModeStatus, error)
}

// RoleObserver is implemented by a plugin that wants to know when the
// node's role changes (sent after Started, in dependency order).
type RoleObserver interface {
	RoleChanged(ctx context.Context, req RoleChange) error
}

// BootstrapProvider is implemented by a plugin whose Description says
// ProvidesBootstrap: on a first boot it asked for (WantsBootstrap), it
// returns the command the host runs instead of initdb.
type BootstrapProvider interface {
	BootstrapProvide(ctx context.Context, req BootstrapProvideRequest) (*BootstrapCommand, error)
}

// JobHealthReporter is implemented by a plugin that reports its jobs'
// results in its health; the SDK calls it instead of Health. The host
// pushes the results after every job run; a probe that carries none
// (pgdock-healthcheck reattaching) gets the last results the host sent.
type JobHealthReporter interface {
	HealthWithJobs(ctx context.Context, req HealthRequest) (Health, error)
}
