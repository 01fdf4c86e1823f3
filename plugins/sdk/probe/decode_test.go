package probe

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
)

// The hand-written decoder must agree with the generated code.
func TestDecodeHealthResponseMatchesGeneratedCode(t *testing.T) {
	tests := []*pb.HealthResponse{
		{},
		{Healthy: true},
		{Message: "only a message"},
		{Healthy: true, Message: "ok", Details: map[string]string{"a": "1", "": "empty key", "empty value": "", "ü": "ñ"}},
		{Healthy: true, Degraded: true, Message: "the last backup is 30h old"},
		{Degraded: true, Message: "degraded is ignored when unhealthy"},
	}
	for _, in := range tests {
		b, err := proto.Marshal(in)
		require.NoError(t, err)
		got, err := decodeHealthResponse(b)
		require.NoError(t, err)
		assert.Equal(t, in.GetHealthy(), got.Healthy)
		assert.Equal(t, in.GetDegraded() && in.GetHealthy(), got.Degraded)
		assert.Equal(t, in.GetMessage(), got.Message)
		if len(in.GetDetails()) == 0 {
			assert.Nil(t, got.Details)
		} else {
			assert.Equal(t, in.GetDetails(), got.Details)
		}
	}
}

func TestDecodeHealthResponseSkipsUnknownFields(t *testing.T) {
	b, err := proto.Marshal(&pb.HealthResponse{Healthy: true, Message: "m"})
	require.NoError(t, err)
	b = protowire.AppendTag(b, 9, protowire.BytesType) // a field added by a newer plugin
	b = protowire.AppendString(b, "future")
	b = protowire.AppendTag(b, 10, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 42)
	entry := protowire.AppendTag(nil, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "k")
	entry = protowire.AppendTag(entry, 3, protowire.VarintType) // unknown in the entry
	entry = protowire.AppendVarint(entry, 1)
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, entry)
	got, err := decodeHealthResponse(b)
	require.NoError(t, err)
	assert.Equal(t, Result{Healthy: true, Message: "m", Details: map[string]string{"k": ""}}, got)
}

func TestDecodeHealthResponseRejectsTruncatedInput(t *testing.T) {
	b, err := proto.Marshal(&pb.HealthResponse{Healthy: true, Message: "message", Details: map[string]string{"key": "value"}})
	require.NoError(t, err)
	for i := 1; i < len(b); i++ {
		if _, err := decodeHealthResponse(b[:i]); err != nil {
			assert.Contains(t, err.Error(), "decode health response")
		}
	}
	_, err = decodeHealthResponse([]byte{0x0a, 0x05, 'a'}) // field 1 as bytes, truncated
	require.Error(t, err)
}

func TestFinish(t *testing.T) {
	ok := map[string]string{":status": "200", "grpc-status": "0"}
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		want    []byte
		wantErr string
	}{
		{name: "message", headers: ok, body: []byte{0, 0, 0, 0, 2, 8, 1}, want: []byte{8, 1}},
		{name: "empty message", headers: ok, body: []byte{0, 0, 0, 0, 0}, want: []byte{}},
		{name: "HTTP error", headers: map[string]string{":status": "503"}, wantErr: `HTTP status "503"`},
		{name: "no grpc-status", headers: map[string]string{":status": "200"}, wantErr: "without a valid grpc-status"},
		{name: "status with encoded message", headers: map[string]string{":status": "200", "grpc-status": "13", "grpc-message": "100%25 br%C3%BBl%C3%A9 %zz"}, wantErr: "gRPC status 13: 100% brûlé %zz"},
		{name: "no message", headers: ok, wantErr: "no message"},
		{name: "compressed", headers: ok, body: []byte{1, 0, 0, 0, 0}, wantErr: "compressed"},
		{name: "length mismatch", headers: ok, body: []byte{0, 0, 0, 0, 9, 1}, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := finish(tt.headers, tt.body)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestUnpad(t *testing.T) {
	got, err := unpad(flagPadded, []byte{2, 'a', 'b', 0, 0})
	require.NoError(t, err)
	assert.Equal(t, []byte("ab"), got)
	_, err = unpad(flagPadded, []byte{9, 'a'})
	require.Error(t, err)
	got, err = unpad(0, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []byte("x"), got)
}
