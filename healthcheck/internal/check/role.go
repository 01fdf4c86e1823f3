package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pgdock/pgdock/healthcheck/internal/proc"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// Roles, as the entrypoint records them in the state file (sdk.Role's
// strings) and the patroni plugin reports them in its "pgdock_role" detail.
const (
	rolePrimary = "primary"
	roleReplica = "replica"
	roleNone    = "none"
)

// patroniPlugin is the name of the plugin that provides the patroni run mode.
const patroniPlugin = "patroni"

// observed is a node's role and where it was learnt.
type observed struct {
	role    string
	source  string
	details map[string]string
}

// role is the leader and replica checks: the entrypoint runs (phase running,
// live pid, live postmaster) and the node's role is want.
func (r Runner) role(ctx context.Context, name Name, want string) Report {
	st, err := r.loadState()
	res := Result{Check: "role"}
	switch {
	case err != nil:
		res.Message = err.Error()
		return summarize(name, []Result{res}, "", "role")
	case notReady(st.Phase) != nil:
		res.Message = notReady(st.Phase).Error()
		return summarize(name, []Result{res}, "", "role")
	}
	pm := r.postmaster(st)
	if !pm.Healthy {
		return summarize(name, []Result{pm}, "", "")
	}
	obs, err := r.observeRole(ctx, st)
	if err != nil {
		res.Message = err.Error()
		return summarize(name, []Result{pm, res}, "", "role")
	}
	res.Details = obs.details
	if res.Details == nil {
		res.Details = map[string]string{}
	}
	res.Details["role"], res.Details["source"] = obs.role, obs.source
	behind := ""
	if obs.role == want {
		res.Healthy = true
		res.Message = fmt.Sprintf("%s (%s)", obs.role, obs.source)
		if want == roleReplica && r.Config.MaxLag > 0 {
			lag, err := strconv.ParseInt(res.Details["lag_bytes"], 10, 64)
			switch {
			case err != nil:
				// Patroni lists no lag for a member it cannot place
				// (not streaming, leader unknown); direct mode has none.
				res.Healthy = false
				res.Message = fmt.Sprintf("replica, lag unknown (%s), --max-lag %d bytes asked for", obs.source, r.Config.MaxLag)
			case lag > r.Config.MaxLag:
				res.Healthy = false
				res.Message = fmt.Sprintf("replica %d bytes behind the leader, more than --max-lag %d (%s)", lag, r.Config.MaxLag, obs.source)
			default:
				res.Message = fmt.Sprintf("%s, %d bytes behind (%s)", obs.role, lag, obs.source)
				behind = fmt.Sprintf(", %d bytes behind", lag)
			}
		}
	} else {
		res.Message = fmt.Sprintf("role %s, not %s (%s)", orNone(obs.role), want, obs.source)
	}
	return summarize(name, []Result{pm, res}, fmt.Sprintf("role %s%s (%s, mode %s)", obs.role, behind, obs.source, orDirect(st.Mode)), "role")
}

func orNone(role string) string {
	if role == "" {
		return "unknown"
	}
	return role
}

func orDirect(mode string) string {
	if mode == "" {
		return "direct"
	}
	return mode
}

// observeRole finds the node's role, most current source first: under
// Patroni the patroni plugin's live health (Patroni's REST API), in direct
// mode PGDATA (standby.signal, postmaster.pid's status line); the state
// file's last recorded role when neither can be read.
func (r Runner) observeRole(ctx context.Context, st state.State) (observed, error) {
	if p, ok := findPlugin(st, patroniPlugin); ok && r.Prober != nil {
		if pid := p.Reattach.Pid; pid > 0 && !proc.Alive(pid) {
			return observed{}, fmt.Errorf("patroni plugin process %d is not running", pid)
		}
		r.progress.set("probing plugin " + p.Name + " for the role")
		h, err := probeBounded(ctx, r.Prober, p)
		if err != nil {
			return observed{}, fmt.Errorf("patroni plugin probe failed: %w", err)
		}
		role := patroniRole(h.Details)
		if role == "" {
			msg := h.Message
			if msg == "" {
				msg = "no role in its health details"
			}
			return observed{}, fmt.Errorf("patroni reports no role: %s", oneLine(msg))
		}
		return observed{role: role, source: "patroni REST API", details: h.Details}, nil
	}
	if orDirect(st.Mode) == "direct" {
		if role, how, ok := r.pgdataRole(st); ok {
			return observed{role: role, source: how}, nil
		}
	}
	if st.Role == "" {
		return observed{}, errors.New("role unknown: the state file records none")
	}
	return observed{role: st.Role, source: "state file, recorded " + st.UpdatedAt.Format(time.RFC3339)}, nil
}

// patroniRole maps the patroni plugin's health details to a pgdock role:
// its own "pgdock_role" when present, else Patroni's role and state (a
// running master or primary is the primary; a running replica, sync standby
// or standby leader a replica; anything else none).
func patroniRole(d map[string]string) string {
	if v := d["pgdock_role"]; v != "" {
		return v
	}
	if d["role"] == "" {
		return ""
	}
	if d["state"] != "running" {
		return roleNone
	}
	switch d["role"] {
	case "master", "primary":
		return rolePrimary
	case "replica", "sync_standby", "standby_leader":
		return roleReplica
	}
	return roleNone
}

// pgdataRole derives the role in direct mode from PGDATA as the entrypoint
// does: standby.signal or recovery.signal (PostgreSQL removes them when it
// leaves recovery) or a "standby" status line mean a replica, a "ready" status
// line without them the primary. ok is false when PGDATA cannot be read
// (another OS user) or the server has not said yet.
func (r Runner) pgdataRole(st state.State) (role, how string, ok bool) {
	pgdata := r.pgdata(st)
	r.progress.set("reading the role from " + pgdata)
	for _, f := range []string{"standby.signal", "recovery.signal"} {
		_, err := os.Lstat(filepath.Join(pgdata, f))
		switch {
		case err == nil:
			return roleReplica, f + " in PGDATA", true
		case !errors.Is(err, os.ErrNotExist):
			return "", "", false // unreadable: not ours to judge
		}
	}
	pf, err := proc.ReadPIDFile(pgdata)
	if err != nil {
		return "", "", false
	}
	switch pf.Status {
	case proc.StatusStandby:
		return roleReplica, "postmaster.pid says standby", true
	case proc.StatusReady:
		return rolePrimary, "postmaster.pid says ready, not in recovery", true
	}
	return "", "", false
}
