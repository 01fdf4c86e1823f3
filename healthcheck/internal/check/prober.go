package check

import (
	"context"
	"fmt"

	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// PluginHealth is a plugin's answer to a health probe; it carries the same
// data as sdk.HealthResult.
type PluginHealth struct {
	Plugin   string
	Healthy  bool
	Degraded bool
	Message  string
	Details  map[string]string
}

// PluginProber asks a plugin the entrypoint started for its health. An
// implementation reattaches to the running plugin with the state file's
// reattach data: it must never start a plugin process, nor kill or close the
// plugin it reattached to.
type PluginProber interface {
	Probe(ctx context.Context, p state.Plugin) (PluginHealth, error)
}

// ProberFunc adapts a function to PluginProber.
type ProberFunc func(ctx context.Context, p state.Plugin) (PluginHealth, error)

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, p state.Plugin) (PluginHealth, error) {
	return f(ctx, p)
}

// probeBounded runs one probe so that a prober that ignores ctx cannot
// outlive it and a prober that panics cannot crash the healthcheck (a Go
// panic exits 2, which Docker reserves).
func probeBounded(ctx context.Context, pr PluginProber, p state.Plugin) (PluginHealth, error) {
	type answer struct {
		h   PluginHealth
		err error
	}
	ch := make(chan answer, 1) // buffered: an abandoned probe never blocks
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- answer{err: fmt.Errorf("probe panicked: %v", v)}
			}
		}()
		h, err := pr.Probe(ctx, p)
		ch <- answer{h, err}
	}()
	select {
	case a := <-ch:
		return a.h, a.err
	case <-ctx.Done():
		return PluginHealth{}, fmt.Errorf("no answer: %w", ctx.Err())
	}
}
