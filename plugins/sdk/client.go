package sdk

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
)

// Client is the typed host-side view of a running plugin. It implements
// Plugin. It never owns the connection: closing or killing the plugin is the
// caller's business (go-plugin's Client.Kill for a started plugin; nothing at
// all for a probe, see ProbeHealth).
type Client struct {
	rpc pb.PluginClient
}

var (
	_ Plugin             = (*Client)(nil)
	_ ModeStatusReporter = (*Client)(nil)
	_ RoleObserver       = (*Client)(nil)
	_ BootstrapProvider  = (*Client)(nil)
	_ JobHealthReporter  = (*Client)(nil)
)

// NewClient wraps a gRPC connection to a plugin.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{rpc: pb.NewPluginClient(conn)}
}

// HookError is a failure reported by the plugin's own code (as opposed to a
// transport failure such as a crashed plugin).
type HookError struct {
	Hook    string
	Message string
}

func (e *HookError) Error() string { return e.Hook + ": " + e.Message }

// callError turns a gRPC error into a HookError when the plugin returned it,
// or into a wrapped transport error otherwise.
func callError(hook string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", hook, err)
	}
	switch st.Code() {
	case codes.Unavailable, codes.Canceled, codes.DeadlineExceeded:
		return fmt.Errorf("%s: plugin unreachable (%s): %w", hook, st.Code(), err)
	case codes.Unimplemented:
		return fmt.Errorf("%s: plugin does not implement this hook: %w", hook, err)
	default:
		return &HookError{Hook: hook, Message: st.Message()}
	}
}

// IsHookError reports whether err was returned by the plugin's hook itself.
func IsHookError(err error) bool {
	var he *HookError
	return errors.As(err, &he)
}

// Describe calls the Describe hook.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	r, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Description{}, callError("describe", err)
	}
	return descriptionFromProto(r), nil
}

// Validate calls the Validate hook.
func (c *Client) Validate(ctx context.Context, env map[string]string) ([]Problem, error) {
	r, err := c.rpc.Validate(ctx, &pb.ValidateRequest{Env: env})
	if err != nil {
		return nil, callError("validate", err)
	}
	return problemsFromProto(r.GetProblems()), nil
}

// Configure calls the Configure hook.
func (c *Client) Configure(ctx context.Context, req ConfigureRequest) (Configuration, error) {
	r, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{Env: req.Env, Server: serverToProto(req.Server)})
	if err != nil {
		return Configuration{}, callError("configure", err)
	}
	return configurationFromProto(r), nil
}

// Bootstrap calls the Bootstrap hook.
func (c *Client) Bootstrap(ctx context.Context, req HookRequest) error {
	if _, err := c.rpc.Bootstrap(ctx, &pb.BootstrapRequest{Env: req.Env, Conn: connToProto(req.Conn)}); err != nil {
		return callError("bootstrap", err)
	}
	return nil
}

// Started calls the Started hook.
func (c *Client) Started(ctx context.Context, req HookRequest) error {
	if _, err := c.rpc.Started(ctx, &pb.StartedRequest{Env: req.Env, Conn: connToProto(req.Conn), Role: roleToProto(req.Role)}); err != nil {
		return callError("started", err)
	}
	return nil
}

// Health calls the Health hook with no job results.
func (c *Client) Health(ctx context.Context) (Health, error) {
	return c.HealthWithJobs(ctx, HealthRequest{})
}

// HealthWithJobs calls the Health hook, passing the last result of each of
// the plugin's jobs.
func (c *Client) HealthWithJobs(ctx context.Context, req HealthRequest) (Health, error) {
	r, err := c.rpc.Health(ctx, &pb.HealthRequest{Jobs: jobResultsToProto(req.Jobs)})
	if err != nil {
		return Health{}, callError("health", err)
	}
	return healthFromProto(r), nil
}

// Stopping calls the Stopping hook.
func (c *Client) Stopping(ctx context.Context) error {
	if _, err := c.rpc.Stopping(ctx, &pb.StoppingRequest{}); err != nil {
		return callError("stopping", err)
	}
	return nil
}

// ModeCommand calls the ModeCommand hook. A nil Command means the plugin
// provides no mode.
func (c *Client) ModeCommand(ctx context.Context, req ModeCommandRequest) (*Command, error) {
	r, err := c.rpc.ModeCommand(ctx, &pb.ModeCommandRequest{Env: req.Env, Server: serverToProto(req.Server), Merged: mergedToProto(req.Merged)})
	if err != nil {
		return nil, callError("mode command", err)
	}
	return commandFromProto(r), nil
}

// ModeStatus calls the ModeStatus hook of a mode provider.
func (c *Client) ModeStatus(ctx context.Context) (ModeStatus, error) {
	r, err := c.rpc.ModeStatus(ctx, &pb.ModeStatusRequest{})
	if err != nil {
		return ModeStatus{}, callError("mode status", err)
	}
	return modeStatusFromProto(r), nil
}

// RoleChanged calls the RoleChanged hook.
func (c *Client) RoleChanged(ctx context.Context, req RoleChange) error {
	_, err := c.rpc.RoleChanged(ctx, &pb.RoleChangedRequest{Role: roleToProto(req.Role), Previous: roleToProto(req.Previous),
		Conn: connToProto(req.Conn), Env: req.Env})
	if err != nil {
		return callError("role changed", err)
	}
	return nil
}

// BootstrapProvide calls the BootstrapProvide hook of a bootstrap provider.
// A nil command means the plugin provides nothing this time.
func (c *Client) BootstrapProvide(ctx context.Context, req BootstrapProvideRequest) (*BootstrapCommand, error) {
	r, err := c.rpc.BootstrapProvide(ctx, &pb.BootstrapProvideRequest{Env: req.Env, Server: serverToProto(req.Server)})
	if err != nil {
		return nil, callError("bootstrap provide", err)
	}
	return bootstrapCommandFromProto(r), nil
}
