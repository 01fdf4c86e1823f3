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
// progress. It is written before initdb starts and removed when the first
// boot completes, so its presence on a later start means the first boot
// failed, even if everything was killed while initdb ran.
//
// initdb refuses a non-empty directory, so it does not run on PGDATA
// itself: it initialises stagingName inside PGDATA, whose entries are then
// renamed into PGDATA. The marker therefore lives with the data (on the same
// volume, surviving a re-created container), which a marker in the state
// directory or beside PGDATA would not.
const MarkerName = "pgdock_bootstrap_incomplete"

// stagingName is the directory inside PGDATA that initdb initialises.
const stagingName = ".pgdock-initdb"

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

// checkEmpty is initdb's own refusal of a non-empty data directory, made
// before the marker is written (the marker and the staging directory of an
// earlier attempt do not count).
func checkEmpty(pgdata string) error {
	entries, err := os.ReadDir(pgdata)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", pgdata, err)
	}
	for _, e := range entries {
		if e.Name() != MarkerName && e.Name() != stagingName {
			return fmt.Errorf("directory %q exists but is not empty (it contains %q) and holds no database: "+
				"remove or empty it to initialise a new database, or set PGDATA to a subdirectory of it", pgdata, e.Name())
		}
	}
	return nil
}

// moveUp renames every entry of the initialised staging directory into
// pgdata, gives pgdata the mode initdb chose (0700, or 0750 with
// --allow-group-access; a failure is ignored as the official image ignores
// chmod failures on PGDATA), and removes the staging directory.
func moveUp(staging, pgdata string) error {
	fi, err := os.Stat(staging)
	if err != nil {
		return fmt.Errorf("initdb left no data directory: %w", err)
	}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return fmt.Errorf("read %s: %w", staging, err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(staging, e.Name()), filepath.Join(pgdata, e.Name())); err != nil {
			return fmt.Errorf("move initdb's output into PGDATA: %w", err)
		}
	}
	_ = os.Chmod(pgdata, fi.Mode().Perm())
	if err := os.Remove(staging); err != nil {
		return fmt.Errorf("remove %s: %w", staging, err)
	}
	return fsutil.SyncDir(pgdata)
}

// CheckComplete refuses an initialised-looking PGDATA (PG_VERSION present)
// without a marker whose initdb clearly did not finish: no global/pg_control
// or no global/pg_filenode.map. Such a directory is left by an initdb that
// was killed before pgdock wrote its marker first (older versions); starting
// it would fail, and skipping the first boot would lose POSTGRES_DB and the
// init scripts for good.
func CheckComplete(pgdata string) error {
	for _, f := range []string{"global/pg_control", "global/pg_filenode.map"} {
		if _, err := os.Stat(filepath.Join(pgdata, f)); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s holds PG_VERSION but no %s: its initdb did not finish, so it is not a database. "+
				"pgdock will not start it; empty %s to initialise it again", pgdata, f, pgdata)
		}
	}
	return nil
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
