package probe_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/probe"
	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// fake answers Health with whatever the test sets.
type fake struct {
	sdk.Base
	health sdk.Health
	err    error
	delay  time.Duration
}

func (f *fake) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "fake"}, nil
}

func (f *fake) Health(ctx context.Context) (sdk.Health, error) {
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
	}
	return f.health, f.err
}

// serve runs a real grpc-go server with the pgdock service (as a plugin
// process does) and returns the state entry pointing at it.
func serve(t *testing.T, network string, impl sdk.Plugin) state.Plugin {
	t.Helper()
	var lis net.Listener
	var err error
	if network == "unix" {
		dir, derr := os.MkdirTemp("", "prb")
		require.NoError(t, derr)
		t.Cleanup(func() { os.RemoveAll(dir) })
		lis, err = net.Listen("unix", filepath.Join(dir, "s"))
	} else {
		lis, err = net.Listen("tcp", "127.0.0.1:0")
	}
	require.NoError(t, err)
	srv := grpc.NewServer()
	require.NoError(t, (&sdk.GRPCPlugin{Impl: impl}).GRPCServer(nil, srv))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return entry(network, lis.Addr().String())
}

func entry(network, address string) state.Plugin {
	return state.Plugin{Name: "fake", Reattach: state.Reattach{
		Protocol: "grpc", ProtocolVersion: probe.ProtocolVersion, Network: network, Address: address, Pid: 1,
	}}
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func TestHealthAgainstGRPCServer(t *testing.T) {
	bigDetails := map[string]string{}
	for i := range 3000 {
		bigDetails[strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("x", i%50)+"-"+string(rune(0x4e00+i))] = strings.Repeat("v", 60)
	}
	tests := []struct {
		name    string
		network string
		impl    *fake
		want    probe.Result
		wantErr string
	}{
		{
			name: "healthy with details", network: "unix",
			impl: &fake{health: sdk.Health{Healthy: true, Message: "ok", Details: map[string]string{"a": "1", "ünï": "cødé", "empty": ""}}},
			want: probe.Result{Plugin: "fake", Healthy: true, Message: "ok", Details: map[string]string{"a": "1", "ünï": "cødé", "empty": ""}},
		},
		{
			name: "unhealthy is an answer", network: "tcp",
			impl: &fake{health: sdk.Health{Healthy: false, Message: "disk full"}},
			want: probe.Result{Plugin: "fake", Message: "disk full"},
		},
		{
			name: "zero values", network: "unix",
			impl: &fake{},
			want: probe.Result{Plugin: "fake"},
		},
		{
			name: "larger than the HTTP/2 default window", network: "unix",
			impl: &fake{health: sdk.Health{Healthy: true, Details: bigDetails}},
			want: probe.Result{Plugin: "fake", Healthy: true, Details: bigDetails},
		},
		{
			name: "hook error", network: "unix",
			impl:    &fake{err: errors.New("cannot reach the repo: 100% — ünïcode")},
			wantErr: "gRPC status 2: cannot reach the repo: 100% — ünïcode",
		},
		{
			name: "status error", network: "unix",
			impl:    &fake{err: status.Error(codes.Unavailable, "later")},
			wantErr: "gRPC status 14: later",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := serve(t, tt.network, tt.impl)
			got, err := probe.Health(ctxFor(t, 5*time.Second), e)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				var se *probe.Error
				assert.True(t, errors.As(err, &se))
				assert.False(t, got.Healthy)
				assert.Equal(t, err.Error(), got.Message)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHealthIsBoundedByTheContext(t *testing.T) {
	t.Run("slow plugin", func(t *testing.T) {
		e := serve(t, "unix", &fake{delay: time.Minute})
		start := time.Now()
		_, err := probe.Health(ctxFor(t, 200*time.Millisecond), e)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("silent listener", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer lis.Close()
		go func() {
			for {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		c, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		_, err = probe.Health(c, entry("tcp", lis.Addr().String()))
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestHealthAgainstNonGRPCPeers(t *testing.T) {
	tests := []struct {
		name    string
		reply   string
		wantErr string
	}{
		{name: "closes at once", reply: "", wantErr: "unreachable"},
		{name: "speaks HTTP/1", reply: "HTTP/1.1 400 Bad Request\r\n\r\n", wantErr: "too large"},
		{name: "GOAWAY", reply: "\x00\x00\x08\x07\x00\x00\x00\x00\x00" + "\x00\x00\x00\x00\x00\x00\x00\x01", wantErr: "GOAWAY"},
		{name: "stream reset", reply: "\x00\x00\x04\x03\x00\x00\x00\x00\x01" + "\x00\x00\x00\x08", wantErr: "stream reset by the plugin (HTTP/2 error code 8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer lis.Close()
			go func() {
				c, err := lis.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(tt.reply))
				_ = c.Close()
			}()
			_, err = probe.Health(ctxFor(t, 2*time.Second), entry("tcp", lis.Addr().String()))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestHealthRefusesBadReattachData(t *testing.T) {
	good := entry("unix", filepath.Join(t.TempDir(), "gone"))
	tests := []struct {
		name    string
		mutate  func(*state.Reattach)
		wantErr string
	}{
		{"net/rpc plugin", func(r *state.Reattach) { r.Protocol = "netrpc" }, `protocol "netrpc" is not grpc`},
		{"unknown protocol version", func(r *state.Reattach) { r.ProtocolVersion = 7 }, "protocol version 7"},
		{"bad network", func(r *state.Reattach) { r.Network = "udp" }, `network "udp"`},
		{"empty address", func(r *state.Reattach) { r.Address = "" }, "address is empty"},
		{"plugin gone", func(*state.Reattach) {}, "plugin unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.mutate(&p.Reattach)
			res, err := probe.Health(ctxFor(t, time.Second), p)
			require.ErrorContains(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), "probe plugin fake")
			assert.Equal(t, probe.Result{Plugin: "fake", Message: err.Error()}, res)
		})
	}
}

func TestConstantsMatchTheProtocol(t *testing.T) {
	assert.Equal(t, pb.Plugin_Health_FullMethodName, probe.HealthMethod)
	assert.Equal(t, sdk.SupportedVersions(), probe.SupportedVersions())
	assert.Equal(t, sdk.ProtocolVersion, probe.ProtocolVersion)
}
