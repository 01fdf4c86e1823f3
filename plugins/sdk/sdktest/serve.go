package sdktest

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Serve serves impl in-process through the SDK's gRPC adapters on an
// in-memory connection and returns the host's typed client for it. Every
// hook call crosses the real wire format (protobuf conversion both ways,
// errors as gRPC statuses), without go-plugin and without a process. The
// server and connection are closed when the test ends.
func Serve(t testing.TB, impl sdk.Plugin) *sdk.Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	if err := (&sdk.GRPCPlugin{Impl: impl}).GRPCServer(nil, srv); err != nil {
		t.Fatalf("sdktest.Serve: %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///sdktest",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("sdktest.Serve: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return sdk.NewClient(conn)
}
