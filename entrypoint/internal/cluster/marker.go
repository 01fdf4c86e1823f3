package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
)

// MarkerName is the file in PGDATA that exists while a first boot is in
// progress. It is written right after initdb and removed when the first boot
// completes, so its presence on a later start means the first boot failed.
const MarkerName = "pgdock_bootstrap_incomplete"

// Bootstrap steps, in order. Steps before StepScripts touch nothing a user
// supplied, so a bootstrap that failed there may be redone from scratch.
const (
	StepInitdb    = "initdb"
	StepConfigure = "configure"
	StepTempStart = "temporary server"
	StepCreateDB  = "create database"
	StepPlugins   = "plugin bootstrap"
	StepScripts   = "init scripts"
	StepTempStop  = "stop temporary server"
)

// Marker is the marker file's content.
type Marker struct {
	Step    string    `json:"step"`
	Detail  string    `json:"detail,omitempty"` // e.g. the init script being run
	Started time.Time `json:"started"`
}

// Redoable reports whether nothing user-supplied had run yet.
func (m Marker) Redoable() bool {
	switch m.Step {
	case StepInitdb, StepConfigure, StepTempStart, StepCreateDB:
		return true
	}
	return false
}

// ReadMarker returns the marker, or nil when there is none.
func ReadMarker(pgdata string) (*Marker, error) {
	data, err := os.ReadFile(filepath.Join(pgdata, MarkerName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read bootstrap marker: %w", err)
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil {
		// A torn write still means the first boot did not finish.
		return &Marker{Step: "unknown"}, nil
	}
	return &m, nil
}

func writeMarker(pgdata string, m Marker) error {
	data, _ := json.Marshal(m)
	return fsutil.WriteFileAtomic(filepath.Join(pgdata, MarkerName), data, 0o600)
}

func removeMarker(pgdata string) error {
	if err := os.Remove(filepath.Join(pgdata, MarkerName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove bootstrap marker: %w", err)
	}
	return fsutil.SyncDir(pgdata)
}

// IncompleteError explains a PGDATA whose first boot did not finish.
func IncompleteError(pgdata string, m Marker) error {
	what := m.Step
	if m.Detail != "" {
		what += " (" + m.Detail + ")"
	}
	return fmt.Errorf("the database in %s did not finish its first-boot initialisation: it stopped during %s. "+
		"pgdock will not start it, because the init scripts that did not run would be silently skipped. "+
		"Fix the cause, then either empty %s to initialise again, or delete %s to accept the database as it is",
		pgdata, what, pgdata, filepath.Join(pgdata, MarkerName))
}

// Wipe removes everything inside pgdata (and inside waldir, when set), but
// not the directories themselves, which may be mount points. It is used only
// to redo a first boot that failed before any user-supplied code ran.
func Wipe(pgdata, waldir string) error {
	for _, dir := range []string{pgdata, waldir} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return fmt.Errorf("wipe %s: %w", dir, err)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("wipe %s: %w", dir, err)
			}
		}
	}
	return nil
}
