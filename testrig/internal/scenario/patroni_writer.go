package scenario

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// writerTable holds the writer's rows.
const writerTable = "rig_writes"

// Writer timing: every statement and connection attempt is bounded, so a
// leader cut off the network costs the writer seconds, not the scenario.
const (
	writerDialTimeout  = 2 * time.Second
	writerWriteTimeout = 3 * time.Second
	writerPause        = 20 * time.Millisecond // between acknowledged writes
)

// ack is one acknowledged write: its id, the node that acknowledged it and
// when.
type ack struct {
	ID   int64
	Node string
	At   time.Time
}

// writer inserts one row after another into writerTable on whichever node
// is the primary, through the nodes' published ports, and records every
// insert whose commit was acknowledged. A failed or timed-out insert is not
// acknowledged (it may or may not have committed); the writer then looks
// for the primary again. Every id is used once.
type writer struct {
	st       *engine.Stack
	password string
	nodes    []string

	mu       sync.Mutex
	acks     []ack
	attempts int
	failures int
	lastErr  string
	done     chan struct{}
	stop     context.CancelFunc
}

// startWriter starts the writer in the background; stopWriter ends it.
func startWriter(ctx context.Context, st *engine.Stack, password string, nodes []string) *writer {
	ctx, cancel := context.WithCancel(ctx)
	w := &writer{st: st, password: password, nodes: nodes, done: make(chan struct{}), stop: cancel}
	go w.run(ctx)
	return w
}

// stopWriter stops the writer and waits for it.
func (w *writer) stopWriter() {
	w.stop()
	<-w.done
}

func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	var (
		c    *pgx.Conn
		on   string
		next int64 = 1
	)
	closeConn := func() {
		if c != nil {
			cctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = c.Close(cctx)
			cancel()
			c = nil
		}
	}
	defer closeConn()
	for ctx.Err() == nil {
		if c == nil {
			c, on = w.findPrimary(ctx, on)
			if c == nil {
				sleepCtx(ctx, 200*time.Millisecond)
				continue
			}
		}
		id := next
		next++
		qctx, cancel := context.WithTimeout(ctx, writerWriteTimeout)
		_, err := c.Exec(qctx, "INSERT INTO "+writerTable+" (id, node) VALUES ($1, $2)", id, on)
		cancel()
		at := time.Now()
		w.mu.Lock()
		w.attempts++
		if err == nil {
			w.acks = append(w.acks, ack{ID: id, Node: on, At: at})
		} else if ctx.Err() == nil {
			w.failures++
			w.lastErr = fmt.Sprintf("%s: %v", on, err)
		}
		w.mu.Unlock()
		if err != nil {
			closeConn()
			continue
		}
		sleepCtx(ctx, writerPause)
	}
}

// findPrimary connects to the first node that answers and is not in
// recovery, trying prefer first.
func (w *writer) findPrimary(ctx context.Context, prefer string) (*pgx.Conn, string) {
	order := append([]string{}, w.nodes...)
	sort.SliceStable(order, func(i, j int) bool { return order[i] == prefer && order[j] != prefer })
	for _, n := range order {
		if ctx.Err() != nil {
			return nil, ""
		}
		addr, err := w.st.HostAddr(ctx, n, 5432)
		if err != nil {
			continue // no published port: cut off the network, or stopped
		}
		c, err := dialTimeout(ctx, addr, w.password, writerDialTimeout)
		if err != nil {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, writerDialTimeout)
		var inRecovery bool
		err = c.QueryRow(qctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery)
		cancel()
		if err == nil && !inRecovery {
			return c, n
		}
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = c.Close(cctx)
		cancel()
	}
	return nil, ""
}

// snapshot returns the acknowledged writes so far.
func (w *writer) snapshot() []ack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]ack(nil), w.acks...)
}

// stats returns the attempts, failures and the last failure.
func (w *writer) stats() (attempts, failures int, lastErr string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts, w.failures, w.lastErr
}

// waitAckOn waits until node acknowledged a write after since: the writer
// has found the new leader.
func (w *writer) waitAckOn(ctx context.Context, node string, since time.Time, timeout time.Duration) error {
	return poll(ctx, timeout, func() error {
		for _, a := range w.snapshot() {
			if a.Node == node && a.At.After(since) {
				return nil
			}
		}
		_, _, last := w.stats()
		return fmt.Errorf("no write acknowledged by %s since %s (last failure: %s)", node, since.Format("15:04:05.000"), last)
	})
}

// outage is the writer's view of a failover begun at from: the longest
// time without an acknowledged write, from the last one before from to the
// first one newLeader acknowledged (the old leader may still acknowledge
// writes while it shuts down).
func outage(acks []ack, from time.Time, newLeader string) (last, first time.Time, ok bool) {
	prev := from
	for _, a := range acks {
		if !a.At.After(from) {
			prev = a.At
			continue
		}
		if !ok || a.At.Sub(prev) > first.Sub(last) {
			last, first, ok = prev, a.At, true
		}
		if a.Node == newLeader {
			return last, first, true
		}
		prev = a.At
	}
	return time.Time{}, time.Time{}, false
}

// missingAcks returns the acknowledged ids that node does not have.
func missingAcks(ctx context.Context, c *pgx.Conn, acks []ack) ([]int64, error) {
	ids := make([]int64, len(acks))
	for i, a := range acks {
		ids[i] = a.ID
	}
	rows, err := c.Query(ctx, "SELECT a.id FROM unnest($1::bigint[]) AS a(id) WHERE NOT EXISTS (SELECT 1 FROM "+writerTable+" w WHERE w.id = a.id) ORDER BY a.id", ids)
	if err != nil {
		return nil, err
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("look up the acknowledged ids: %w", err)
	}
	return missing, nil
}

// verifyAcks checks that node holds every acknowledged write in acks.
func verifyAcks(ctx context.Context, st *engine.Stack, node, password string, acks []ack) error {
	c, err := dial(ctx, st, node, password)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	missing, err := missingAcks(ctx, c, acks)
	if err != nil {
		return fmt.Errorf("%s: %w", node, err)
	}
	if len(missing) > 0 {
		shown := missing
		if len(shown) > 10 {
			shown = shown[:10]
		}
		var s []string
		for _, id := range shown {
			s = append(s, fmt.Sprint(id))
		}
		return fmt.Errorf("%d of %d acknowledged writes missing on %s (ids %s…)", len(missing), len(acks), node, strings.Join(s, ", "))
	}
	return nil
}

// dialTimeout connects as the superuser through a published port, giving up
// after timeout.
func dialTimeout(ctx context.Context, addr, password string, timeout time.Duration) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return pgConnect(cctx, addr, "postgres", password, "postgres")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
