package citus

// These tests run the plugin's SQL against real PostgreSQL servers where
// Citus's functions and catalog tables are STAND-INS: plpgsql functions
// named citus_add_node, citus_set_coordinator_host, citus_remove_node and
// citus_disable_node in the schema citus_standin, which record every call
// in citus_standin.calls, and plain tables named pg_dist_node and
// pg_dist_authinfo. They prove the plugin's logic (when it calls what,
// retries, idempotence, nothing on stop or on a replica), not Citus itself:
// TestRealCitus does that where Citus is installed.

import (
	"context"
	"strconv"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

const standinSchema = "citus_standin"

const standinSQL = `
CREATE SCHEMA citus_standin;
CREATE TABLE citus_standin.calls (id serial PRIMARY KEY, fn text NOT NULL, args text NOT NULL);
CREATE TABLE citus_standin.pg_dist_node (nodeid serial PRIMARY KEY, groupid int NOT NULL, nodename text NOT NULL,
  nodeport int NOT NULL, noderole text NOT NULL DEFAULT 'primary', isactive bool NOT NULL DEFAULT true);
CREATE TABLE citus_standin.pg_dist_authinfo (nodeid int NOT NULL, rolename name NOT NULL, authinfo text NOT NULL);
CREATE FUNCTION citus_standin.citus_add_node(nodename text, nodeport int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE id int;
BEGIN
  INSERT INTO citus_standin.calls (fn, args) VALUES ('citus_add_node', nodename || ':' || nodeport);
  INSERT INTO citus_standin.pg_dist_node (groupid, nodename, nodeport)
    VALUES ((SELECT coalesce(max(groupid), 0) + 1 FROM citus_standin.pg_dist_node), nodename, nodeport) RETURNING nodeid INTO id;
  RETURN id;
END $$;
CREATE FUNCTION citus_standin.citus_set_coordinator_host(host text, port int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO citus_standin.calls (fn, args) VALUES ('citus_set_coordinator_host', host || ':' || port);
  DELETE FROM citus_standin.pg_dist_node WHERE groupid = 0;
  INSERT INTO citus_standin.pg_dist_node (groupid, nodename, nodeport) VALUES (0, host, port);
END $$;
CREATE FUNCTION citus_standin.citus_remove_node(nodename text, nodeport int) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO citus_standin.calls (fn, args) VALUES ('citus_remove_node', nodename || ':' || nodeport) $$;
CREATE FUNCTION citus_standin.citus_disable_node(nodename text, nodeport int) RETURNS void LANGUAGE sql AS
  $$ INSERT INTO citus_standin.calls (fn, args) VALUES ('citus_disable_node', nodename || ':' || nodeport) $$;
`

// standinPlugin is the plugin pointed at the stand-ins, with the always
// installed plpgsql in place of the citus extension and fast retries.
func standinPlugin(host string) *Plugin {
	return New(hclog.NewNullLogger(), Options{
		Schema: standinSchema, Extension: "plpgsql",
		Backoff:         Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond},
		Hostname:        func() (string, error) { return host, nil },
		MonitorInterval: 50 * time.Millisecond,
	})
}

func calls(c *pgserver.Server) []string {
	return c.Strings("SELECT fn || '(' || args || ')' FROM citus_standin.calls ORDER BY id")
}

func waitHealth(t *testing.T, p *Plugin, want func(sdk.Health) bool, what string) sdk.Health {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := p.Health(context.Background())
		require.NoError(t, err)
		if want(h) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last health: %+v", what, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// standinServer is a started real PostgreSQL on port with the stand-in
// Citus functions (standinSQL) installed.
func standinServer(t *testing.T, port int) *pgserver.Server {
	t.Helper()
	s := pgserver.New(t, pgserver.Find(t), port)
	s.Start()
	s.Exec(standinSQL)
	return s
}

func TestStandinWorkerRegistration(t *testing.T) {
	ctx := context.Background()
	worker := standinServer(t, pgserver.FreePort(t))
	coordPort := pgserver.FreePort(t) // nothing listens there yet
	env := map[string]string{
		"CITUS_ROLE": "worker", "CITUS_COORDINATOR_HOST": "127.0.0.1", "CITUS_COORDINATOR_PORT": strconv.Itoa(coordPort),
		"CITUS_COORDINATOR_SSLMODE": "disable", "POSTGRES_PASSWORD": pgserver.Password,
	}
	req := sdk.HookRequest{Env: env, Conn: worker.Conn(), Role: sdk.RolePrimary}
	node := "worker-1:" + strconv.Itoa(worker.Port)

	// Stand-in coordinator down: the worker keeps retrying and says it is
	// not registered.
	p1 := standinPlugin("worker-1")
	require.NoError(t, p1.Started(ctx, req), "Started returns at once; registration runs in the background")
	h := waitHealth(t, p1, func(h sdk.Health) bool { n, _ := strconv.Atoi(h.Details["attempts"]); return n >= 3 }, "three failed attempts")
	assert.False(t, h.Healthy)
	assert.Equal(t, "false", h.Details["registered"])
	assert.Contains(t, h.Message, "not registered with coordinator 127.0.0.1:"+strconv.Itoa(coordPort))
	assert.NotContains(t, h.Message, pgserver.Password)
	// The worker recorded the superuser's password for Citus's node
	// connections (stand-in pg_dist_authinfo), as a quoted conninfo value.
	assert.Equal(t, []string{`0 postgres password='pw\'with\\odd chars'`},
		worker.Strings("SELECT nodeid || ' ' || rolename || ' ' || authinfo FROM citus_standin.pg_dist_authinfo"))

	// The stand-in coordinator comes up: the next attempt registers.
	coord := standinServer(t, coordPort)
	h = waitHealth(t, p1, func(h sdk.Health) bool { return h.Healthy }, "registration")
	assert.Equal(t, "true", h.Details["registered"])
	assert.Equal(t, []string{"citus_add_node(" + node + ")"}, calls(coord))

	// Stop: nothing removed or disabled.
	require.NoError(t, p1.Stopping(ctx))
	assert.Equal(t, []string{"citus_add_node(" + node + ")"}, calls(coord))

	// Restart (a new plugin process): registered already, no second call.
	p2 := standinPlugin("worker-1")
	require.NoError(t, p2.Started(ctx, req))
	waitHealth(t, p2, func(h sdk.Health) bool { return h.Healthy }, "registration after restart")
	assert.False(t, p2.reg.Status().Added, "found in pg_dist_node, not added again")
	require.NoError(t, p2.Stopping(ctx))
	assert.Equal(t, []string{"citus_add_node(" + node + ")"}, calls(coord))
	assert.Len(t, worker.Strings("SELECT authinfo FROM citus_standin.pg_dist_authinfo"), 1, "authinfo updated in place, not duplicated")

	// A replica (another worker name, so a call would show) does nothing.
	p3 := standinPlugin("worker-2")
	require.NoError(t, p3.Started(ctx, sdk.HookRequest{Env: env, Conn: worker.Conn(), Role: sdk.RoleReplica}))
	time.Sleep(300 * time.Millisecond) // longer than a retry period
	h, _ = p3.Health(ctx)
	assert.True(t, h.Healthy)
	assert.Contains(t, h.Message, "nothing to do")
	assert.Equal(t, []string{"citus_add_node(" + node + ")"}, calls(coord))
	// Promoted: now it registers.
	require.NoError(t, p3.RoleChanged(ctx, sdk.RoleChange{Role: sdk.RolePrimary, Previous: sdk.RoleReplica, Env: env, Conn: worker.Conn()}))
	waitHealth(t, p3, func(h sdk.Health) bool { return h.Healthy && h.Details["registered"] == "true" }, "registration after promotion")
	assert.Equal(t, []string{"citus_add_node(" + node + ")", "citus_add_node(worker-2:" + strconv.Itoa(worker.Port) + ")"}, calls(coord))
	require.NoError(t, p3.Stopping(ctx))
}

// A wrong password is retried too (the coordinator may not have the role
// yet) and reported without the password.
func TestStandinWorkerWrongPassword(t *testing.T) {
	ctx := context.Background()
	c := standinServer(t, pgserver.FreePort(t))
	env := map[string]string{"CITUS_ROLE": "worker", "CITUS_COORDINATOR_HOST": "127.0.0.1", "CITUS_COORDINATOR_PORT": strconv.Itoa(c.Port),
		"CITUS_COORDINATOR_SSLMODE": "disable", "CITUS_COORDINATOR_PASSWORD": "wrong-secret"}
	p := standinPlugin("w")
	require.NoError(t, p.Started(ctx, sdk.HookRequest{Env: env, Conn: c.Conn(), Role: sdk.RolePrimary}))
	h := waitHealth(t, p, func(h sdk.Health) bool { n, _ := strconv.Atoi(h.Details["attempts"]); return n >= 2 }, "two failed attempts")
	assert.False(t, h.Healthy)
	assert.Contains(t, h.Details["last_error"], "password authentication failed")
	assert.NotContains(t, h.Message, "wrong-secret")
	require.NoError(t, p.Stopping(ctx))
	assert.Empty(t, calls(c))
}

func TestStandinCoordinator(t *testing.T) {
	ctx := context.Background()
	c := standinServer(t, pgserver.FreePort(t))
	env := map[string]string{"CITUS_ROLE": "coordinator", "CITUS_ADVERTISE_HOST": "coord.example"}
	req := sdk.HookRequest{Env: env, Conn: c.Conn(), Role: sdk.RolePrimary}
	self := "coord.example:" + strconv.Itoa(c.Port)

	p := standinPlugin("ignored")
	require.NoError(t, p.Started(ctx, req))
	assert.Equal(t, []string{"citus_set_coordinator_host(" + self + ")"}, calls(c))
	h := waitHealth(t, p, func(h sdk.Health) bool { return h.Details["workers"] != "" }, "a worker check")
	assert.True(t, h.Healthy)
	assert.Equal(t, "0", h.Details["workers"])

	c.Exec("INSERT INTO citus_standin.pg_dist_node (groupid, nodename, nodeport) VALUES (1, 'w1', 5432), (2, 'w2', 5432)")
	h = waitHealth(t, p, func(h sdk.Health) bool { return h.Details["workers"] == "2" }, "two workers")
	assert.True(t, h.Healthy, h.Message)
	assert.Equal(t, "2", h.Details["active_workers"])

	c.Exec("UPDATE citus_standin.pg_dist_node SET isactive = false WHERE nodename = 'w2'")
	h = waitHealth(t, p, func(h sdk.Health) bool { return !h.Healthy }, "an inactive worker")
	assert.Contains(t, h.Message, "1 of 2 workers inactive: w2:5432")
	require.NoError(t, p.Stopping(ctx))

	// Restart: the coordinator host is recorded already.
	p2 := standinPlugin("ignored")
	require.NoError(t, p2.Started(ctx, req))
	require.NoError(t, p2.Stopping(ctx))
	assert.Equal(t, []string{"citus_set_coordinator_host(" + self + ")"}, calls(c))
}

// Bootstrap creates CITUS_DATABASE when it is missing and the extension in
// it (plpgsql standing in for citus), with a name that needs quoting.
func TestStandinBootstrapCreatesDatabase(t *testing.T) {
	e := pgserver.Find(t)
	c := pgserver.New(t, e, pgserver.FreePort(t))
	c.Start()
	p := standinPlugin("x")
	env := map[string]string{"CITUS_ROLE": "coordinator", "CITUS_DATABASE": `dist "db"`}
	require.NoError(t, p.Bootstrap(context.Background(), sdk.HookRequest{Env: env, Conn: c.Conn()}))
	require.NoError(t, p.Bootstrap(context.Background(), sdk.HookRequest{Env: env, Conn: c.Conn()}), "idempotent")
	assert.Equal(t, []string{`dist "db"`}, c.Strings(`SELECT datname::text FROM pg_database WHERE datname LIKE 'dist%'`))
}
