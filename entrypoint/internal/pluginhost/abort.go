package pluginhost

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
)

// errAborted reports a start abandoned because its context ended (the
// entrypoint was asked to stop).
var errAborted = errors.New("plugin start aborted")

// startGate orders a plugin's fork against an abort of its start: whichever
// comes second kills the process group, so an aborted start never leaves a
// plugin behind, whenever the abort comes.
type startGate struct {
	mu      sync.Mutex
	forked  bool
	aborted bool
}

// abortable is the runner go-plugin drives: the plugin's process, killed
// right after the fork when the start was aborted meanwhile.
type abortable struct {
	*process
	inst *instance
}

func (a *abortable) Start(ctx context.Context) error {
	g := &a.inst.gate
	g.mu.Lock()
	aborted := g.aborted
	g.mu.Unlock()
	if aborted {
		return errAborted
	}
	if err := a.process.Start(ctx); err != nil {
		return err
	}
	g.mu.Lock()
	g.forked = true
	aborted = g.aborted
	g.mu.Unlock()
	if aborted {
		a.process.killGroup()
	}
	return nil
}

// handshake runs go-plugin's start (process, handshake, connection), which
// knows no context, and abandons it as soon as ctx ends: the plugin's
// process group is killed, which ends go-plugin's wait for the handshake
// line, and the result is errAborted. go-plugin's own wait is bounded by
// grace in case something outside the group holds the plugin's stdout.
func (inst *instance) handshake(ctx context.Context, grace time.Duration) (plugin.ClientProtocol, error) {
	type result struct {
		c   plugin.ClientProtocol
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := inst.client.Client()
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-ctx.Done():
	}
	inst.stopping.Store(true)
	g := &inst.gate
	g.mu.Lock()
	g.aborted = true
	forked := g.forked
	g.mu.Unlock()
	if forked {
		inst.proc.killGroup()
	}
	bound, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	select {
	case <-done:
		// Whether the handshake failed or completed just before the abort:
		// Kill ends what is left.
		inst.client.Kill()
		inst.removeSocketDir()
	case <-bound.Done():
	}
	if forked {
		select {
		case <-inst.proc.Done():
		case <-bound.Done():
		}
	}
	return nil, errAborted
}

// removeSocketDir removes go-plugin's socket directory of a plugin that
// failed to start: go-plugin's Kill leaves it behind when the process was
// never forked (the start was aborted first, or the exec failed). Call it
// only once go-plugin's start returned.
func (inst *instance) removeSocketDir() {
	if inst.socketDir != "" {
		_ = os.RemoveAll(inst.socketDir)
	}
}
