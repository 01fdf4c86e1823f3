package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// ProtocolVersion is the plugin protocol whose Health call this package
// speaks (pgdock.plugin.v1); sdk tests keep it equal to sdk.ProtocolVersion.
const ProtocolVersion = 1

// HealthMethod is the gRPC method called.
const HealthMethod = "/pgdock.plugin.v1.Plugin/Health"

// SupportedVersions lists the protocol versions Health can probe.
func SupportedVersions() []int { return []int{ProtocolVersion} }

// Result is a plugin's health as seen by a prober.
type Result struct {
	Plugin   string
	Healthy  bool
	Degraded bool // healthy, but something needs attention (never set when unhealthy)
	Message  string
	Details  map[string]string
}

// ErrUnreachable means the plugin could not be asked (gone, stale state,
// connection failed); the probe got no verdict.
var ErrUnreachable = errors.New("plugin unreachable")

// Health asks the plugin described by p (an entry of the state file) for its
// health. A plugin that answers gives its own verdict and err is nil (even
// when unhealthy). When it cannot be asked, or answers with an error, err
// says why and the result is unhealthy with err's text as Message. ctx bounds
// the whole probe.
func Health(ctx context.Context, p state.Plugin) (Result, error) {
	r := p.Reattach
	switch {
	case r.Protocol != "grpc":
		return failed(p.Name, fmt.Errorf("reattach protocol %q is not grpc", r.Protocol))
	case !slices.Contains(SupportedVersions(), r.ProtocolVersion):
		return failed(p.Name, fmt.Errorf("plugin speaks protocol version %d, this program supports %v", r.ProtocolVersion, SupportedVersions()))
	case r.Network != "unix" && r.Network != "tcp":
		return failed(p.Name, fmt.Errorf("reattach network %q is not unix or tcp", r.Network))
	case r.Address == "":
		return failed(p.Name, errors.New("reattach address is empty"))
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, r.Network, r.Address)
	if err != nil {
		return failed(p.Name, fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	// Cancellation unblocks any read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	body, err := unaryCall(conn, HealthMethod, nil)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The connection deadline (ctx's) fired just before ctx did.
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return failed(p.Name, err)
	}
	res, err := decodeHealthResponse(body)
	if err != nil {
		return failed(p.Name, err)
	}
	res.Plugin = p.Name
	return res, nil
}

func failed(name string, err error) (Result, error) {
	err = fmt.Errorf("probe plugin %s: %w", name, err)
	return Result{Plugin: name, Message: err.Error()}, err
}
