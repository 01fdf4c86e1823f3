package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
)

// waitFunc waits until service dep meets condition (service_healthy or
// service_completed_successfully) for service. It is called at most once
// per (dep, condition): services that wait for the same thing share it.
type waitFunc func(ctx context.Context, service, dep, condition string) error

// startFunc starts one service.
type startFunc func(ctx context.Context, service string) error

// startInDependencyOrder starts every service of p as soon as its
// dependencies allow, as compose does: a service waits until each
// dependency has been started (service_started, the short syntax), is
// healthy (service_healthy) or has exited 0 (service_completed_successfully);
// services with nothing to wait for start at the same time. The first error
// cancels the services still waiting and is returned (with any other error
// that is not the cancellation it caused).
func startInDependencyOrder(ctx context.Context, p *types.Project, wait waitFunc, start startFunc) error {
	order, err := composefile.ServiceOrder(p) // refuses cycles and missing required dependencies
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	started := make(map[string]chan struct{}, len(order))
	for _, name := range order {
		started[name] = make(chan struct{})
	}
	conds := &onceMap{m: map[string]*onceResult{}}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
		cancel(err)
	}
	for _, name := range order {
		svc := p.Services[name]
		deps := make([]string, 0, len(svc.DependsOn))
		for dep := range svc.DependsOn {
			if _, ok := p.Services[dep]; ok {
				deps = append(deps, dep)
			}
		}
		sort.Strings(deps)
		wg.Go(func() {
			for _, dep := range deps {
				select {
				case <-started[dep]:
				case <-ctx.Done():
					return
				}
				cond := svc.DependsOn[dep].Condition
				switch cond {
				case types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully:
					// Reported once, by the first service that waits for it.
					err := conds.do(dep+"\x00"+cond, func() error {
						err := wait(ctx, name, dep, cond)
						if err != nil && ctx.Err() == nil {
							fail(err)
						}
						return err
					})
					if err != nil {
						return
					}
				}
			}
			if ctx.Err() != nil {
				return
			}
			if err := start(ctx, name); err != nil {
				fail(err)
				return
			}
			close(started[name])
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return fmt.Errorf("engine: up: %w", err)
	}
	return nil
}

// onceMap runs a function once per key and gives every caller its result.
type onceMap struct {
	mu sync.Mutex
	m  map[string]*onceResult
}

type onceResult struct {
	once sync.Once
	err  error
}

func (o *onceMap) do(key string, fn func() error) error {
	o.mu.Lock()
	r, ok := o.m[key]
	if !ok {
		r = &onceResult{}
		o.m[key] = r
	}
	o.mu.Unlock()
	r.once.Do(func() { r.err = fn() })
	return r.err
}
