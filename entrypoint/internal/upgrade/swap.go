package upgrade

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
)

// OldPrefix starts the name of an old cluster kept inside PGDATA after an
// upgrade: pgdock-old-<major>-<UTC time>.
const OldPrefix = "pgdock-old-"

// trashName is what the staging directory is renamed to before it is
// removed, so that a crash during the removal leaves no half state.
const trashName = ".pgdock-upgrade-removing"

// resume finishes or rolls back an upgrade a crash (or a stop) interrupted.
func (o *Options) resume(ctx context.Context, st State) (Result, error) {
	o.Log.Warn(fmt.Sprintf("upgrade: found an interrupted upgrade from PostgreSQL %d to %d (stopped at step %s, %s mode)", st.From, st.To, st.Step, st.Mode),
		zap.String("state", pathsOf(o.PGData).state()))
	o.stopLeftovers()
	switch {
	case st.From == 0 && st.To == 0:
		// Crashed between making the directory and writing the state.
		return o.rolledBack(st, o.rollback(st))
	case o.to == st.To:
		if !st.Rollbackable() || st.Step == StepVerify {
			// pg_upgrade finished: go forward.
			return o.forward(ctx, st, o.stepper(o.Now()))
		}
		if err := o.rollback(st); err != nil {
			return Result{}, err
		}
		if !o.Config.Requested {
			return Result{RolledBack: true, From: st.From, To: st.To}, fmt.Errorf(
				"the interrupted upgrade of PGDATA from PostgreSQL %d to %d was rolled back: PGDATA holds the PostgreSQL %d cluster as before; "+
					"start this image with %s=true to upgrade it, or run the pgdock/postgres:%d image", st.From, st.To, st.From, EnvUpgrade, st.From)
		}
		o.Log.Info("upgrade: rolled back the interrupted upgrade; starting it again")
		return o.upgrade(ctx, st.From)
	case o.to == st.From && st.Rollbackable():
		// The old image: undo, then start the old cluster normally.
		r, err := o.rolledBack(st, o.rollback(st))
		if err == nil {
			o.Log.Warn(fmt.Sprintf("upgrade: rolled back the interrupted upgrade to PostgreSQL %d; PGDATA holds the PostgreSQL %d cluster, which starts now", st.To, st.From))
		}
		return r, err
	default:
		return Result{}, fmt.Errorf("PGDATA is in the middle of an upgrade from PostgreSQL %d to %d (step %s, %s mode) that can no longer be rolled back; "+
			"this image runs PostgreSQL %d: start the pgdock/postgres:%d image (or the upgrade image) to finish it; nothing was changed (docs/upgrades.md)",
			st.From, st.To, st.Step, st.Mode, o.to, st.To)
	}
}

func (o *Options) rolledBack(st State, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	return Result{RolledBack: true, From: st.From, To: st.To, Mode: st.Mode}, nil
}

// rollback undoes an upgrade that has not reached its point of no return:
// the old pg_control gets its name back (link mode renamed it) and the
// staging directory, which holds only the new cluster and pg_upgrade's
// files, is removed. The old cluster's files are never removed: the staging
// directory is refused when it holds the old cluster (old/).
func (o *Options) rollback(st State) error {
	if !st.Rollbackable() {
		return fmt.Errorf("the upgrade is at step %s (%s mode): it can no longer be rolled back", st.Step, st.Mode)
	}
	p := pathsOf(o.PGData)
	if _, err := os.Lstat(p.oldData()); err == nil {
		return fmt.Errorf("%s exists: the old cluster was being moved; not rolling back by removing it (docs/upgrades.md)", p.oldData())
	}
	ctl := filepath.Join(o.PGData, "global", "pg_control")
	if _, err := os.Stat(ctl); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(ctl + ".old"); err == nil {
			if err := os.Rename(ctl+".old", ctl); err != nil {
				return fmt.Errorf("rollback: restore %s: %w", ctl, err)
			}
			o.Log.Info("upgrade: restored the old cluster's global/pg_control (pg_upgrade --link had renamed it)")
		}
	}
	// Rename first, so that a crash during the removal leaves no state.
	trash := filepath.Join(o.PGData, trashName)
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if err := os.Rename(p.dir, trash); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rollback: %w", err)
	}
	if err := fsutil.SyncDir(o.PGData); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// forward takes an upgrade whose pg_upgrade finished to the end: verify
// (from the first start of the new server, no rollback in link mode), swap,
// finish.
func (o *Options) forward(ctx context.Context, st State, step func(string)) (Result, error) {
	start := o.Now()
	set := func(s Step) error { st.Step = s; return writeState(o.PGData, st) }
	switch st.Step {
	case StepUpgrade, StepVerify:
		if err := set(StepVerify); err != nil {
			return Result{}, err
		}
		step("5/6 starting the new server, checking it, rebuilding statistics (vacuumdb --analyze-in-stages)")
		if err := o.verify(ctx, st); err != nil {
			if st.Rollbackable() {
				return Result{}, err
			}
			return Result{}, fmt.Errorf("%w; in link mode the old cluster cannot be started again: fix the cause and start again to finish the upgrade (docs/upgrades.md)", err)
		}
		st.OldDir = o.oldDest(st)
		if err := set(StepSwapOut); err != nil {
			return Result{}, err
		}
		fallthrough
	case StepSwapOut:
		step("6/6 moving the new cluster into PGDATA and the old one aside")
		if err := o.swapOut(); err != nil {
			return Result{}, err
		}
		if err := set(StepSwapIn); err != nil {
			return Result{}, err
		}
		fallthrough
	case StepSwapIn:
		if err := o.swapIn(); err != nil {
			return Result{}, err
		}
		if err := set(StepFinish); err != nil {
			return Result{}, err
		}
		fallthrough
	case StepFinish:
		if err := o.finish(st); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, fmt.Errorf("upgrade state: unknown step %q", st.Step)
	}
	took := o.Now().Sub(start)
	if !st.Started.IsZero() {
		took = o.Now().Sub(st.Started)
	}
	o.Log.Info(fmt.Sprintf("upgrade complete: PGDATA holds PostgreSQL %d; the PostgreSQL %d cluster is kept in %s (remove it once you no longer need a way back; docs/upgrades.md)",
		st.To, st.From, st.OldDir), zap.Duration("took", took.Round(time.Millisecond)))
	return Result{Upgraded: true, From: st.From, To: st.To, Mode: st.Mode, OldDir: st.OldDir, Took: took}, nil
}

// oldDest chooses where the old cluster is kept: beside PGDATA when that
// is on the same file system and writable (the official 18 layout, a bind
// mount of a parent), else inside PGDATA (PGDATA is the volume's mount
// point: nothing else of the volume is reachable).
func (o *Options) oldDest(st State) string {
	name := fmt.Sprintf("%s%d-%s", OldPrefix, st.From, o.Now().UTC().Format("20060102T150405Z"))
	parent := filepath.Dir(filepath.Clean(o.PGData))
	var a, b syscall.Stat_t
	if syscall.Stat(parent, &a) == nil && syscall.Stat(o.PGData, &b) == nil && a.Dev == b.Dev &&
		syscall.Access(parent, 0o3) == nil && !isMountPoint(o.PGData) {
		return filepath.Join(parent, filepath.Base(filepath.Clean(o.PGData))+"-old-"+strconv.Itoa(st.From)+"-"+o.Now().UTC().Format("20060102T150405Z"))
	}
	return filepath.Join(o.PGData, name)
}

// isMountPoint reports whether dir (links resolved) is a mount point; an
// unreadable mountinfo counts as one, so the old cluster is kept inside
// PGDATA. (A bind mount of a directory of the same file system has the
// same device number as its parent, hence mountinfo.)
func isMountPoint(dir string) bool {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	m, err := fsutil.IsMountPoint(real)
	return m || err != nil
}

// topEntries lists PGDATA's entries that belong to the cluster there.
func topEntries(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !skipTop(e.Name()) && !strings.HasPrefix(e.Name(), ".pgdock-upgrade") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// swapOut moves the old cluster's entries, all but PG_VERSION, from PGDATA
// into the staging directory's old/, then copies PG_VERSION there. Each
// move is one rename; running it again after a crash moves what is left.
func (o *Options) swapOut() error {
	p := pathsOf(o.PGData)
	if err := os.MkdirAll(p.oldData(), 0o700); err != nil {
		return err
	}
	names, err := topEntries(o.PGData)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "PG_VERSION" {
			continue
		}
		if err := os.Rename(filepath.Join(o.PGData, n), filepath.Join(p.oldData(), n)); err != nil {
			return fmt.Errorf("move the old cluster aside: %w", err)
		}
	}
	v, err := os.ReadFile(filepath.Join(o.PGData, "PG_VERSION"))
	if err != nil {
		return fmt.Errorf("move the old cluster aside: %w", err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(p.oldData(), "PG_VERSION"), v, 0o600); err != nil {
		return err
	}
	if err := fsutil.SyncDir(p.oldData()); err != nil {
		return err
	}
	return fsutil.SyncDir(o.PGData)
}

// swapIn moves the new cluster's entries up into PGDATA, PG_VERSION last:
// its rename over the old PG_VERSION is the moment PGDATA becomes the new
// cluster.
func (o *Options) swapIn() error {
	p := pathsOf(o.PGData)
	names, err := topEntries(p.newData())
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "PG_VERSION" {
			continue
		}
		if err := os.Rename(filepath.Join(p.newData(), n), filepath.Join(o.PGData, n)); err != nil {
			return fmt.Errorf("move the new cluster into PGDATA: %w", err)
		}
	}
	if err := fsutil.SyncDir(o.PGData); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(p.newData(), "PG_VERSION")); err == nil {
		if err := os.Rename(filepath.Join(p.newData(), "PG_VERSION"), filepath.Join(o.PGData, "PG_VERSION")); err != nil {
			return fmt.Errorf("move the new cluster into PGDATA: %w", err)
		}
	}
	return fsutil.SyncDir(o.PGData)
}

// finish moves the old cluster to st.OldDir and removes the staging
// directory (now holding only pg_upgrade's work files and the state).
func (o *Options) finish(st State) error {
	p := pathsOf(o.PGData)
	if _, err := os.Lstat(p.oldData()); err == nil {
		if err := os.Rename(p.oldData(), st.OldDir); err != nil {
			if !errors.Is(err, syscall.EXDEV) && !errors.Is(err, os.ErrPermission) {
				return fmt.Errorf("move the old cluster to %s: %w", st.OldDir, err)
			}
			// Beside PGDATA turned out to be another file system: keep it inside.
			st.OldDir = filepath.Join(o.PGData, filepath.Base(st.OldDir))
			if err := writeState(o.PGData, st); err != nil {
				return err
			}
			if err := os.Rename(p.oldData(), st.OldDir); err != nil {
				return fmt.Errorf("move the old cluster to %s: %w", st.OldDir, err)
			}
		}
		if err := fsutil.SyncDir(filepath.Dir(st.OldDir)); err != nil {
			return err
		}
	}
	trash := filepath.Join(o.PGData, trashName)
	if err := os.RemoveAll(trash); err != nil {
		return err
	}
	if err := os.Rename(p.dir, trash); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := fsutil.SyncDir(o.PGData); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}
