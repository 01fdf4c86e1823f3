package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
)

// provide runs Options.Provide into the staging directory and moves the
// cluster up into PGDATA, as initdb's output is.
func provide(ctx context.Context, o Options) error {
	staging := filepath.Join(o.PGData, stagingName)
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("clear %s: %w", staging, err)
	}
	if err := os.Mkdir(staging, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", staging, err)
	}
	if err := o.Provide(ctx, staging); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bootstrap provider interrupted: %w", ctx.Err())
		}
		return fmt.Errorf("bootstrap provider: %w", err)
	}
	if ok, err := IsInitialised(staging); err != nil || !ok {
		return fmt.Errorf("bootstrap provider left no cluster (no PG_VERSION in %s)", staging)
	}
	return moveUp(staging, o.PGData)
}

// PostBootstrapName is the file in PGDATA that records that the first-boot
// steps of a mode provider's bootstrap ran (PostBootstrap). It is copied to
// replicas with the data, so they never run them.
const PostBootstrapName = "pgdock_post_bootstrap_done"

// ErrReplica is returned by PostBootstrap on a standby.
var ErrReplica = errors.New("the first-boot steps never run on a replica (standby.signal in PGDATA)")

// PostBootstrap runs the first-boot steps against a server that a mode
// provider created and started itself (Patroni's post_bootstrap calls back
// into the entrypoint): POSTGRES_DB unless it exists, OnTempServer (the
// plugins' Bootstrap hooks), then the init scripts, with the environment
// init scripts are promised (libpq pointed at conn). It runs once per
// cluster: on success it writes PostBootstrapName; a later call returns
// ran=false and does nothing. A failure leaves no record, so a provider
// that re-creates the cluster after a failed bootstrap (Patroni does) gets
// a clean second attempt.
//
// With o.ProvidedByMode the mode provider did not run initdb but a
// bootstrap provider's method (Patroni's pgbackrest bootstrap: a restore):
// POSTGRES_DB is not created and the init scripts are not run (the
// official image runs them only after initdb; a restored database already
// had them), only the plugins' Bootstrap hooks run. A PostBootstrapName
// found in PGDATA then came with the restored data (the backup's source)
// and does not count.
func PostBootstrap(ctx context.Context, o Options, conn Conn) (ran bool, err error) {
	if o.Reaper == nil {
		return false, errors.New("post-bootstrap: no reaper")
	}
	start := time.Now()
	if _, err := os.Stat(filepath.Join(o.PGData, PostBootstrapName)); err == nil && !o.ProvidedByMode {
		o.Log.Info("first-boot steps already ran for this cluster; nothing to do")
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(o.PGData, "standby.signal")); err == nil {
		return false, ErrReplica
	}
	if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", o.WorkDir, err)
	}
	if o.ProvidedByMode {
		o.Log.Info("the cluster was created by a plugin's bootstrap method (a restore), not by initdb: POSTGRES_DB is not created and init scripts are not run")
	} else if err := createDB(ctx, o, conn); err != nil {
		return false, err
	}
	if o.OnTempServer != nil {
		if err := o.OnTempServer(ctx, conn); err != nil {
			return false, err
		}
	}
	if !o.ProvidedByMode {
		env := childEnv(scriptEnv(o), "PGHOST", "PGPORT")
		env = append(env, "PGHOST="+conn.SocketDir, "PGPORT="+strconv.Itoa(conn.Port))
		step := func(s, detail string) error {
			o.Log.Debug("post-bootstrap step", zap.String("step", s), zap.String("detail", detail))
			return nil
		}
		if err := runScripts(ctx, o, step, env); err != nil {
			return false, err
		}
	}
	record := "completed " + time.Now().UTC().Format(time.RFC3339)
	what := "POSTGRES_DB, plugin bootstrap hooks, init scripts"
	if o.ProvidedByMode {
		record += " (provided cluster: plugin bootstrap hooks only)"
		what = "plugin bootstrap hooks"
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(o.PGData, PostBootstrapName), []byte(record+"\n"), 0o600); err != nil {
		return false, err
	}
	o.Log.Info("first-boot steps completed ("+what+")", zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return true, nil
}
