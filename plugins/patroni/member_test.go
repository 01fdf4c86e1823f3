package patroni

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEtcd answers /v3/kv/range with value for key (nothing for others).
func fakeEtcd(t *testing.T, key, value string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Key string }
		require.NoError(t, json.NewDecoder(r.Body).Decode(&req))
		k, _ := base64.StdEncoding.DecodeString(req.Key)
		if r.URL.Path != "/v3/kv/range" || string(k) != key {
			_, _ = w.Write([]byte(`{"header":{}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"kvs": []map[string]string{{"value": base64.StdEncoding.EncodeToString([]byte(value))}}})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestCheckName(t *testing.T) {
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"state":"running","patroni":{"version":"3.0.2","scope":"s"}}`))
	}))
	t.Cleanup(live.Close)
	c := Config{Scope: "s", Name: "n1", RESTConnectHost: "10.0.0.9", RESTPort: 8008}
	tests := []struct {
		name    string
		member  string
		etcd    []string
		wantErr bool
	}{
		{"live member elsewhere", `{"api_url":"` + live.URL + `/patroni"}`, nil, true},
		{"our own address", `{"api_url":"http://10.0.0.9:8008/patroni"}`, nil, false},
		{"stale key", `{"api_url":"http://127.0.0.1:1/patroni"}`, nil, false},
		{"not registered", "", nil, false},
		{"etcd unreachable", "", []string{"127.0.0.1:1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			cc.ETCDHosts = tt.etcd
			if tt.etcd == nil {
				key := memberKey("s", "n1")
				if tt.member == "" {
					key = "/nothing"
				}
				cc.ETCDHosts = []string{"127.0.0.1:1", fakeEtcd(t, key, tt.member)}
			}
			err := CheckName(context.Background(), cc, nil)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrNameTaken)
				assert.Contains(t, err.Error(), live.URL)
				return
			}
			assert.NoError(t, err)
		})
	}
}
