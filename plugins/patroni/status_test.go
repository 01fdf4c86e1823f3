package patroni

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// fakePatroni serves the GET endpoints pgdock uses.
func fakePatroni(t *testing.T, patroni string, liveness, readiness int, cluster string) *REST {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/patroni", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(patroni)) })
	mux.HandleFunc("/liveness", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(liveness) })
	mux.HandleFunc("/readiness", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(readiness) })
	mux.HandleFunc("/cluster", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(cluster)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &REST{BaseURL: srv.URL, Client: srv.Client()}
}

func pgdataWithPID(t *testing.T, content string) string {
	d := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(d, "postmaster.pid"), []byte(content), 0o600))
	return d
}

func TestRoleOf(t *testing.T) {
	tests := []struct {
		role, state string
		want        sdk.Role
	}{
		{"master", "running", sdk.RolePrimary}, {"primary", "running", sdk.RolePrimary}, {"replica", "running", sdk.RoleReplica},
		{"standby_leader", "running", sdk.RoleReplica}, {"master", "starting", sdk.RoleNone}, {"uninitialized", "stopped", sdk.RoleNone},
		{"replica", "crashed", sdk.RoleNone},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RoleOf(NodeStatus{Role: tt.role, State: tt.state}), "%s/%s", tt.role, tt.state)
	}
}

func TestStatusOf(t *testing.T) {
	const primary = `{"state":"running","role":"master","timeline":2,"patroni":{"version":"3.0.2","scope":"c"}}`
	const (
		noLeader = `{"members":[{"name":"n1","role":"replica"},{"name":"n2","role":"replica"}]}`
		n1Leads  = `{"members":[{"name":"n1","role":"leader"},{"name":"n2","role":"replica"}]}`
		n2Leads  = `{"members":[{"name":"n1","role":"replica"},{"name":"n2","role":"leader"}]}`
	)
	tests := []struct {
		name      string
		body      string
		readiness int
		pidfile   string
		cluster   string
		custom    bool // a custom bootstrap method is configured
		want      Status
	}{
		{"ready primary", primary, 200, "4242\n/data\n", noLeader, false, Status{Role: sdk.RolePrimary, Ready: true, PostmasterPID: 4242}},
		{"not ready", primary, 503, "4242\n", n1Leads, false, Status{Role: sdk.RolePrimary, PostmasterPID: 4242}},
		{"no pid file yet", primary, 200, "", n1Leads, false, Status{Role: sdk.RolePrimary}},
		{"starting replica", `{"state":"starting","role":"replica"}`, 503, "7\n", n2Leads, false, Status{Role: sdk.RoleNone}},
		{"primary after initdb, before the key (nothing restarts it; the host waits for the callback)", `{"state":"running","role":"master","cluster_unlocked":true}`, 200, "4242\n", noLeader, false, Status{Role: sdk.RolePrimary, PostmasterPID: 4242, Ready: true}},
		{"primary after a custom bootstrap, before the key (Patroni may still restart it)", `{"state":"running","role":"master","cluster_unlocked":true}`, 200, "4242\n", noLeader, true, Status{Role: sdk.RolePrimary, PostmasterPID: 4242}},
		{"primary after a custom bootstrap holding the key while the REST view is a cycle old", `{"state":"running","role":"master","cluster_unlocked":true}`, 200, "4242\n", n1Leads, true, Status{Role: sdk.RolePrimary, PostmasterPID: 4242, Ready: true}},
		{"primary after a custom bootstrap, the DCS unreadable", `{"state":"running","role":"master","cluster_unlocked":true}`, 200, "4242\n", `not json`, true, Status{Role: sdk.RolePrimary, PostmasterPID: 4242}},
		{"running replica, no leader anywhere (a restore recovering during bootstrap)", `{"state":"running","role":"replica","cluster_unlocked":true}`, 200, "7\n", noLeader, true, Status{Role: sdk.RoleReplica, PostmasterPID: 7}},
		{"running replica, no leader anywhere, initdb cluster", `{"state":"running","role":"replica","cluster_unlocked":true}`, 200, "7\n", noLeader, false, Status{Role: sdk.RoleReplica, PostmasterPID: 7}},
		{"running replica, the REST view a cycle old, a leader in the DCS", `{"state":"running","role":"replica","cluster_unlocked":true}`, 200, "7\n", n2Leads, false, Status{Role: sdk.RoleReplica, PostmasterPID: 7, Ready: true}},
		{"running replica of a leader", `{"state":"running","role":"replica"}`, 200, "7\n", noLeader, false, Status{Role: sdk.RoleReplica, Ready: true, PostmasterPID: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fakePatroni(t, tt.body, 200, tt.readiness, tt.cluster)
			pgdata := t.TempDir()
			if tt.pidfile != "" {
				pgdata = pgdataWithPID(t, tt.pidfile)
			}
			got := StatusOf(context.Background(), r, pgdata, "n1", tt.custom)
			assert.Equal(t, tt.want.Role, got.Role)
			assert.Equal(t, tt.want.Ready, got.Ready)
			assert.Equal(t, tt.want.PostmasterPID, got.PostmasterPID)
		})
	}
}

func TestStatusOfUnreachable(t *testing.T) {
	r := NewREST(1) // nothing listens on port 1
	got := StatusOf(context.Background(), r, t.TempDir(), "n1", false)
	assert.Equal(t, sdk.RoleNone, got.Role)
	assert.False(t, got.Ready)
	assert.Contains(t, got.Message, "REST API")
}

func TestHealthOf(t *testing.T) {
	r := fakePatroni(t, `{"state":"running","role":"replica","timeline":3}`, 200, 200,
		`{"members":[{"name":"n1","role":"leader","lag":""},{"name":"n2","role":"replica","lag":1234}]}`)
	h := HealthOf(context.Background(), r, "n2")
	assert.True(t, h.Healthy)
	assert.Equal(t, map[string]string{"liveness": "200", "readiness": "200", "role": "replica", "state": "running", "timeline": "3", "pgdock_role": "replica", "lag_bytes": "1234"}, h.Details)

	r = fakePatroni(t, `{"state":"stopped","role":"master"}`, 503, 503, `{}`)
	h = HealthOf(context.Background(), r, "n1")
	assert.False(t, h.Healthy)
	assert.Contains(t, h.Message, "liveness 503")

	h = HealthOf(context.Background(), NewREST(1), "n1")
	assert.False(t, h.Healthy)
}

func TestPostmasterPID(t *testing.T) {
	_, err := PostmasterPID(pgdataWithPID(t, "abc\n"))
	assert.ErrorContains(t, err, "bad first line")
	_, err = PostmasterPID(pgdataWithPID(t, ""))
	assert.ErrorContains(t, err, "empty")
	pid, err := PostmasterPID(pgdataWithPID(t, "12\n"))
	require.NoError(t, err)
	assert.Equal(t, 12, pid)
}
