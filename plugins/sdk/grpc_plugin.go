package sdk

import (
	"context"
	"errors"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
)

// GRPCPlugin is the go-plugin glue for the pgdock service: on the plugin side
// it registers Impl on the gRPC server, on the host side it returns a
// *Client. Plugin authors use Serve instead; GRPCPlugin is exported for hosts
// and for tests that build custom plugin sets (e.g. other protocol versions).
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Plugin // plugin side only
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers Impl.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk: GRPCPlugin.Impl is nil")
	}
	pb.RegisterPluginServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client on conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return NewClient(conn), nil
}
