package citus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// Backoff is the registration retry schedule: Initial after the first
// failure, doubled after each further one, at most Max.
type Backoff struct {
	Initial, Max time.Duration
}

// DefaultBackoff retries after 1 s, 2 s, 4 s … and then every 30 s.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second}

func (b Backoff) next(d time.Duration) time.Duration {
	if d <= 0 {
		return b.Initial
	}
	d *= 2
	if d > b.Max {
		d = b.Max
	}
	return d
}

// Registration is what a worker knows about its registration.
type Registration struct {
	Registered bool
	Added      bool // this run called citus_add_node (false: it was there already)
	Attempts   int
	LastError  string
}

// Registrar registers a worker with its coordinator: it checks
// pg_dist_node first and calls citus_add_node only when the worker is not
// there, so it is idempotent across restarts. It never removes a node.
type Registrar struct {
	SQL SQL
	// Coordinator is the coordinator's Citus database (with the password,
	// which only reaches psql's passfile).
	Coordinator psql.Target
	Host        string // advertised host
	Port        int    // advertised port
	Backoff     Backoff
	Log         hclog.Logger

	mu    sync.Mutex
	state Registration
}

// Status returns the registration state.
func (r *Registrar) Status() Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// Once makes one registration attempt; added says whether it called
// citus_add_node.
func (r *Registrar) Once(ctx context.Context) (added bool, err error) {
	vars := psql.Vars{"host": r.Host, "port": strconv.Itoa(r.Port)}
	there, err := psql.QueryBool(ctx, r.Coordinator, r.SQL.NodeRegistered(), vars)
	if err != nil {
		if pe := (*psql.Error)(nil); errors.As(err, &pe) && pe.Connection() {
			return false, fmt.Errorf("connect to the coordinator: %w", err)
		}
		return false, fmt.Errorf("read the coordinator's pg_dist_node: %w", err)
	}
	if there {
		return false, nil
	}
	if _, err := psql.QueryRow(ctx, r.Coordinator, r.SQL.AddNode(), vars); err != nil {
		return false, fmt.Errorf("citus_add_node(%s, %d) on the coordinator: %w", r.Host, r.Port, err)
	}
	return true, nil
}

// Run retries Once with backoff until it succeeds or ctx ends.
func (r *Registrar) Run(ctx context.Context) error {
	log := r.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	var wait time.Duration
	for {
		added, err := r.Once(ctx)
		r.mu.Lock()
		r.state.Attempts++
		if err == nil {
			r.state.Registered, r.state.Added, r.state.LastError = true, added, ""
		} else {
			r.state.LastError = err.Error()
		}
		attempts := r.state.Attempts
		r.mu.Unlock()
		if err == nil {
			if added {
				log.Info("registered with the coordinator", "node", fmt.Sprintf("%s:%d", r.Host, r.Port), "attempts", attempts)
			} else {
				log.Info("already registered with the coordinator", "node", fmt.Sprintf("%s:%d", r.Host, r.Port))
			}
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		wait = r.Backoff.next(wait)
		log.Warn("cannot register with the coordinator yet; retrying", "attempt", attempts, "retry_in", wait.String(), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}
