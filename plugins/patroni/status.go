package patroni

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// RESTTimeout bounds every REST call; the API answers locally in
// milliseconds, a slow answer means Patroni is stuck.
const RESTTimeout = 2 * time.Second

// REST asks one node's Patroni REST API on loopback. Only GET endpoints are
// used, which Patroni serves without authentication (its restapi
// authentication protects the unsafe ones).
type REST struct {
	BaseURL string // e.g. http://127.0.0.1:8008
	Client  *http.Client
}

// NewREST returns a client for the REST API on 127.0.0.1:port.
func NewREST(port int) *REST {
	return &REST{
		BaseURL: "http://" + net127(port),
		Client:  &http.Client{Timeout: RESTTimeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}},
	}
}

func net127(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// NodeStatus is GET /patroni, the fields pgdock reads.
type NodeStatus struct {
	State    string `json:"state"` // running, starting, stopped, crashed, ...
	Role     string `json:"role"`  // master (primary in Patroni ≥ 3.1?), replica, standby_leader, uninitialized
	Timeline int    `json:"timeline"`
	Patroni  struct {
		Version string `json:"version"`
		Scope   string `json:"scope"`
	} `json:"patroni"`
	Pending         bool `json:"pending_restart"`
	ClusterUnlocked bool `json:"cluster_unlocked"`
}

// Status is what the host needs: the role, whether the node serves, and the
// current postmaster's pid (Patroni restarts PostgreSQL on its own).
type Status struct {
	Role          sdk.Role
	Ready         bool
	PostmasterPID int
	Message       string
	Node          NodeStatus
}

// Node fetches GET /patroni.
func (r *REST) Node(ctx context.Context) (NodeStatus, error) {
	var n NodeStatus
	code, body, err := r.get(ctx, "/patroni")
	if err != nil {
		return n, err
	}
	if code != http.StatusOK && code != http.StatusServiceUnavailable {
		return n, fmt.Errorf("GET /patroni: HTTP %d", code)
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return n, fmt.Errorf("GET /patroni: %w", err)
	}
	return n, nil
}

// Probe returns the HTTP status of a GET (e.g. /liveness, /readiness,
// /leader, /replica): 200 means yes.
func (r *REST) Probe(ctx context.Context, path string) (int, error) {
	code, _, err := r.get(ctx, path)
	return code, err
}

// clusterView is GET /cluster, the fields pgdock reads.
type clusterView struct {
	Members []struct {
		Name string          `json:"name"`
		Role string          `json:"role"`
		Lag  json.RawMessage `json:"lag"`
	} `json:"members"`
}

// cluster fetches GET /cluster, which Patroni answers from the DCS afresh.
func (r *REST) cluster(ctx context.Context) (clusterView, error) {
	var c clusterView
	code, body, err := r.get(ctx, "/cluster")
	if err != nil {
		return c, err
	}
	if code != http.StatusOK {
		return c, fmt.Errorf("GET /cluster: HTTP %d", code)
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("GET /cluster: %w", err)
	}
	return c, nil
}

// Lag returns this member's replication lag in bytes from GET /cluster
// (-1 when unknown: leader, or not listed).
func (r *REST) Lag(ctx context.Context, name string) (int64, error) {
	c, err := r.cluster(ctx)
	if err != nil {
		return -1, err
	}
	for _, m := range c.Members {
		if m.Name == name {
			if n, err := strconv.ParseInt(string(m.Lag), 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return -1, nil
}

func (r *REST) get(ctx context.Context, path string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, RESTTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.BaseURL+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("Patroni REST API: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return resp.StatusCode, body, nil
}

// RoleOf maps Patroni's role and state to pgdock's role: a running master
// (or primary) is the primary, a running replica or standby leader a replica,
// anything else none.
func RoleOf(n NodeStatus) sdk.Role {
	if n.State != "running" {
		return sdk.RoleNone
	}
	switch n.Role {
	case "master", "primary":
		return sdk.RolePrimary
	case "replica", "standby_leader", "sync_standby":
		return sdk.RoleReplica
	}
	return sdk.RoleNone
}

// StatusOf asks the REST API for the node's status and reads the
// postmaster's pid from pgdata/postmaster.pid; name is this member's
// Patroni name, custom whether a custom bootstrap method (a restore) is
// configured. An unreachable API is not an error: the node is simply not
// ready (Patroni is starting).
func StatusOf(ctx context.Context, r *REST, pgdata, name string, custom bool) Status {
	n, err := r.Node(ctx)
	if err != nil {
		return Status{Role: sdk.RoleNone, Message: err.Error()}
	}
	s := Status{Role: RoleOf(n), Node: n, Message: fmt.Sprintf("patroni %s: %s, %s", n.Patroni.Version, n.Role, n.State)}
	if n.State != "running" {
		return s
	}
	if pid, err := PostmasterPID(pgdata); err == nil {
		s.PostmasterPID = pid
	} else {
		s.Message += "; " + err.Error()
	}
	code, err := r.Probe(ctx, "/readiness")
	s.Ready = err == nil && code == http.StatusOK && s.PostmasterPID > 0
	if !s.Ready || !n.ClusterUnlocked {
		return s
	}
	// /patroni's cluster_unlocked is the view of the last HA cycle (up to
	// loop_wait old), so it is only the cue to ask the DCS itself.
	switch {
	case s.Role == sdk.RolePrimary && !custom:
		// Patroni sets the master role before the post-bootstrap
		// callback and takes the leader key one HA cycle after it
		// (loop_wait, 10 s by default: waiting for the key cost the
		// bench's first node 7 s). After initdb nothing happens to the
		// server in between, and the host waits for the callback itself.
	case s.Role == sdk.RolePrimary:
		// After a custom bootstrap (a restore) Patroni restarts
		// PostgreSQL with the final settings between the callback and
		// taking the key, and a connection made then is cut. With a
		// custom method configured, a primary is ready once it holds
		// the key (GET /cluster reads the DCS afresh; on a restart of an
		// existing cluster the key is there already).
		leader, err := r.Leader(ctx)
		if err != nil || leader != name {
			s.Ready = false
			s.Message += "; the leader key is not held yet (bootstrapping)"
		}
	default:
		// A replica while no member holds the leader key: a new cluster
		// is still bootstrapping through a custom method (while a restore
		// recovers, Patroni reports the node as a running replica), or
		// the leader is gone. The host takes a ready replica for
		// "bootstrapped elsewhere" (bootstrapDoneElsewhere), so this one
		// must wait. The host uses Ready for the first readiness only.
		if leader, err := r.Leader(ctx); err != nil || leader == "" || leader == name {
			s.Ready = false
			s.Message += "; no leader in the cluster (bootstrapping, or no leader elected yet)"
		}
	}
	return s
}

// Leader returns the name of the member holding the leader key, read from
// the DCS through GET /cluster ("" when none does).
func (r *REST) Leader(ctx context.Context) (string, error) {
	c, err := r.cluster(ctx)
	if err != nil {
		return "", err
	}
	for _, m := range c.Members {
		if m.Role == "leader" || m.Role == "standby_leader" {
			return m.Name, nil
		}
	}
	return "", nil
}

// PostmasterPID reads the first line of pgdata/postmaster.pid.
func PostmasterPID(pgdata string) (int, error) {
	f, err := os.Open(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postmaster pid: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, errors.New("postmaster pid: postmaster.pid is empty")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("postmaster pid: bad first line %q", sc.Text())
	}
	return pid, nil
}
