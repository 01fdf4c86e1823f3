package upgrade

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
)

// DirName is the staging directory inside PGDATA. It holds the state file,
// the new cluster (new/), pg_upgrade's working directory (work/) and,
// during the swap, the old cluster (old/). It lives inside PGDATA because
// PGDATA is usually the volume's mount point: the only place on the same
// file system that survives the container (pg_upgrade --link and the
// renames of the swap need one file system).
const DirName = ".pgdock-upgrade"

// StateName is the state file in DirName.
const StateName = "state.json"

// Step is where an upgrade is. The steps are in order; each is recorded
// before it starts.
type Step string

const (
	// StepInitdb: the staging directory exists, the new cluster is being
	// created. The old cluster is untouched.
	StepInitdb Step = "initdb"
	// StepCheck: pg_upgrade --check runs. The old cluster is untouched.
	StepCheck Step = "check"
	// StepUpgrade: pg_upgrade runs. In link mode it renames the old
	// global/pg_control to pg_control.old before linking (rollback renames
	// it back); otherwise the old cluster is untouched.
	StepUpgrade Step = "upgrade"
	// StepVerify: the new server is started in the staging directory,
	// checked, and its statistics rebuilt. In link mode this is the point
	// of no return: the old cluster shares the files the new server writes.
	StepVerify Step = "verify"
	// StepSwapOut: the old cluster's entries move from PGDATA into
	// DirName/old (PG_VERSION stays, so PGDATA always has one).
	StepSwapOut Step = "swap-out"
	// StepSwapIn: the new cluster's entries move up into PGDATA; its
	// PG_VERSION replaces the old one last, in one rename.
	StepSwapIn Step = "swap-in"
	// StepFinish: PGDATA holds the new cluster; the old one moves to its
	// final place (State.OldDir) and the staging directory is removed.
	StepFinish Step = "finish"
)

// State is the state file's content.
type State struct {
	Step    Step      `json:"step"`
	From    int       `json:"from"` // the old major (PG_VERSION)
	To      int       `json:"to"`   // the new major
	Mode    Mode      `json:"mode"`
	Started time.Time `json:"started"`
	// Databases and Superuser of the old cluster: the new one is checked
	// against them.
	Databases []string `json:"databases,omitempty"`
	Superuser string   `json:"superuser,omitempty"`
	// OldDir is where the old cluster ends up (chosen before the swap).
	OldDir string `json:"old_dir,omitempty"`
}

// Rollbackable reports whether the volume can still go back to the old
// cluster: before the new server first started (copy and clone: also
// while it is verified; the old cluster was never written to), never once
// the swap began.
func (s State) Rollbackable() bool {
	switch s.Step {
	case StepInitdb, StepCheck, StepUpgrade:
		return true
	case StepVerify:
		return s.Mode != Link
	}
	return false
}

// paths of one upgrade.
type paths struct {
	pgdata string
	dir    string // staging directory
}

func pathsOf(pgdata string) paths {
	return paths{pgdata: pgdata, dir: filepath.Join(pgdata, DirName)}
}

func (p paths) state() string   { return filepath.Join(p.dir, StateName) }
func (p paths) newData() string { return filepath.Join(p.dir, "new") }
func (p paths) oldData() string { return filepath.Join(p.dir, "old") }
func (p paths) work() string    { return filepath.Join(p.dir, "work") }

// ReadState returns the state of an upgrade in progress in pgdata, or nil
// when there is none.
func ReadState(pgdata string) (*State, error) {
	data, err := os.ReadFile(pathsOf(pgdata).state())
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(pathsOf(pgdata).dir); derr == nil {
			// The directory is made before the state file is written in
			// it: a crash in between left an empty start.
			return &State{Step: StepInitdb}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read upgrade state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("upgrade state %s is unreadable (%v): move %s away by hand after checking which cluster PGDATA holds (docs/upgrades.md)",
			pathsOf(pgdata).state(), err, pathsOf(pgdata).dir)
	}
	return &s, nil
}

func writeState(pgdata string, s State) error {
	data, _ := json.MarshalIndent(s, "", "  ")
	return fsutil.WriteFileAtomic(pathsOf(pgdata).state(), append(data, '\n'), 0o600)
}
