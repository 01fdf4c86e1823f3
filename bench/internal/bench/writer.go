package bench

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// writer keeps inserting numbered rows through libpq's multi-host failover
// (whichever node accepts writes) and records which inserts PostgreSQL
// acknowledged, and when.
type writer struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	attempted int
	acked     []int
	ackedAt   []time.Time
	ackedBy   []int         // the port of the server that acknowledged (inet_server_port())
	changed   chan struct{} // closed and replaced on every acknowledgement
}

func (c *patroniCluster) startWriter(ctx context.Context) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{cancel: cancel, done: make(chan struct{}), changed: make(chan struct{})}
	dsn := c.dsn(c.nodes...)
	go func() {
		defer close(w.done)
		for id := 1; ctx.Err() == nil; id++ {
			out, err := c.psql(ctx, dsn, "INSERT INTO bench_w VALUES ("+strconv.Itoa(id)+") RETURNING inet_server_port()")
			at := time.Now()
			port, perr := strconv.Atoi(out)
			w.mu.Lock()
			w.attempted++
			if err == nil {
				if perr != nil {
					port = 0 // acknowledged; the server's port is unknown
				}
				w.acked = append(w.acked, id)
				w.ackedAt = append(w.ackedAt, at)
				w.ackedBy = append(w.ackedBy, port)
				close(w.changed)
				w.changed = make(chan struct{})
			}
			w.mu.Unlock()
			pause := patroniWriterPause
			if err != nil {
				pause = 100 * time.Millisecond // no node accepts writes: pace the retries
			}
			_ = sleepCtx(ctx, pause)
		}
	}()
	return w
}

// stop ends the writer and waits for its last insert (idempotent).
func (w *writer) stop() {
	w.cancel()
	<-w.done
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) result() (attempted, acked int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempted, len(w.acked)
}

func (w *writer) ackedIDs() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.acked...)
}

// waitAcked waits until at least n writes were acknowledged.
func (w *writer) waitAcked(ctx context.Context, n int, limit time.Duration) error {
	_, err := w.waitFor(ctx, limit, func() (time.Duration, bool) { return 0, len(w.acked) >= n })
	if err != nil {
		return fmt.Errorf("%w (%d acknowledged, waiting for %d)", err, w.count(), n)
	}
	return nil
}

// firstAckAfter waits for the first write acknowledged after t by a server
// other than the one on port old (the old leader may still acknowledge
// writes while it shuts down) and returns how long after t it was.
func (w *writer) firstAckAfter(ctx context.Context, t time.Time, old int, limit time.Duration) (time.Duration, error) {
	return w.waitFor(ctx, limit, func() (time.Duration, bool) {
		for i := range w.ackedAt {
			if w.ackedAt[i].After(t) && w.ackedBy[i] != old {
				return w.ackedAt[i].Sub(t), true
			}
		}
		return 0, false
	})
}

// waitFor waits until cond (called with w.mu held) is true.
func (w *writer) waitFor(ctx context.Context, limit time.Duration, cond func() (time.Duration, bool)) (time.Duration, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		w.mu.Lock()
		d, ok := cond()
		ch := w.changed
		w.mu.Unlock()
		if ok {
			return d, nil
		}
		select {
		case <-ch:
		case <-w.done:
			return 0, fmt.Errorf("the writer stopped")
		case <-timer.C:
			return 0, fmt.Errorf("no acknowledged write within %s", limit)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// runOutput runs a short command in its own process group and returns its
// trimmed standard output; a failure carries its standard error.
func runOutput(ctx context.Context, path string, env []string, args ...string) (string, error) {
	return runOutputCred(ctx, path, env, nil, args...)
}

// runOutputCred is runOutput as the user of cred (nil: the bench's own).
func runOutputCred(ctx context.Context, path string, env []string, cred *syscall.Credential, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return "", fmt.Errorf("%w: %s", err, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}
