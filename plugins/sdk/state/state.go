package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// FileName is the state file's name inside PGDOCK_STATE_DIR.
const FileName = "state.json"

// SchemaVersion is bumped on incompatible changes to State.
const SchemaVersion = 1

// Phase is where the entrypoint is in its lifecycle.
type Phase string

// Phases, in lifecycle order. Sleeping is used by sleep (maintenance) mode only.
const (
	PhaseBootstrapping Phase = "bootstrapping" // first boot: initdb, temporary socket-only server, init scripts
	PhaseStarting      Phase = "starting"      // the real server (or Patroni) is starting, not yet ready
	PhaseRunning       Phase = "running"       // the server reported ready
	PhaseStopping      Phase = "stopping"      // a stop was requested or the child exited
	PhaseStopped       Phase = "stopped"       // the entrypoint is about to exit
	PhaseSleeping      Phase = "sleeping"      // SLEEP_MODE: nothing runs on purpose
)

// Reattach is what a go-plugin client needs to connect to a running plugin
// without starting it (plugin.ReattachConfig, flattened to plain data).
type Reattach struct {
	Protocol        string `json:"protocol"`         // always "grpc"
	ProtocolVersion int    `json:"protocol_version"` // negotiated plugin protocol version
	Network         string `json:"network"`          // "unix" or "tcp"
	Address         string `json:"address"`
	Pid             int    `json:"pid"`
}

// Plugin describes one running plugin.
type Plugin struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Reattach Reattach `json:"reattach"`
}

// State is the content of the state file.
type State struct {
	SchemaVersion int    `json:"schema_version"`
	Phase         Phase  `json:"phase"`
	Mode          string `json:"mode"`                     // direct, patroni or sleep
	PID           int    `json:"pid"`                      // the entrypoint's own pid
	PostmasterPID int    `json:"postmaster_pid,omitempty"` // the current postmaster (may change under a mode provider)
	// ModeChildPID is the supervised mode child (e.g. Patroni) when a
	// plugin provides the run mode; 0 in direct mode.
	ModeChildPID int `json:"mode_child_pid,omitempty"`
	// Role is the node's role: primary, replica or none; empty when unknown.
	Role string `json:"role,omitempty"`
	// HooksSocket is the entrypoint's hooks socket while a mode child runs
	// (`pgdock-entrypoint hook ...` connects to it).
	HooksSocket string    `json:"hooks_socket,omitempty"`
	PGData      string    `json:"pgdata"`
	Port        int       `json:"port"`
	SocketDir   string    `json:"socket_dir"`
	User        string    `json:"user"` // superuser role name; probes use it in the startup packet only
	UpdatedAt   time.Time `json:"updated_at"`
	Plugins     []Plugin  `json:"plugins,omitempty"`
}

// Path returns the state file path inside dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// Write stores s atomically in dir/state.json with mode 0640.
func Write(dir string, s State) error {
	s.SchemaVersion = SchemaVersion
	if s.UpdatedAt.IsZero() {
		s.UpdatedAt = time.Now().UTC()
	}
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), Path(dir)); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

// ErrNoState is returned by Read when no state file exists.
var ErrNoState = errors.New("no state file")

// Read loads dir/state.json.
func Read(dir string) (State, error) {
	var s State
	data, err := os.ReadFile(Path(dir))
	if errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("%s: %w", Path(dir), ErrNoState)
	}
	if err != nil {
		return s, fmt.Errorf("read state file: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("decode state file %s: %w", Path(dir), err)
	}
	if s.SchemaVersion != SchemaVersion {
		return s, fmt.Errorf("state file %s has schema version %d, this program reads %d", Path(dir), s.SchemaVersion, SchemaVersion)
	}
	return s, nil
}
