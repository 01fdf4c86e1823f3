package engine

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// project builds a project from "service: dep=condition ..." entries.
func project(deps map[string]map[string]string) *types.Project {
	p := &types.Project{Name: "sched", Services: types.Services{}}
	for name, ds := range deps {
		svc := types.ServiceConfig{Name: name}
		svc.DependsOn = types.DependsOnConfig{}
		for d, cond := range ds {
			svc.DependsOn[d] = types.ServiceDependency{Condition: cond, Required: true}
		}
		p.Services[name] = svc
	}
	return p
}

// recorder logs the scheduler's calls in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) index(e string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.events {
		if x == e {
			return i
		}
	}
	return -1
}

func (r *recorder) count(e string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.events {
		if x == e {
			n++
		}
	}
	return n
}

func TestStartIndependentServicesTogether(t *testing.T) {
	// Three etcd members and three nodes that need them started (compose's
	// short syntax): the members start together, then the nodes together.
	started := types.ServiceConditionStarted
	p := project(map[string]map[string]string{
		"etcd1": nil, "etcd2": nil, "etcd3": nil,
		"pg1": {"etcd1": started, "etcd2": started, "etcd3": started},
		"pg2": {"etcd1": started, "etcd2": started, "etcd3": started},
		"pg3": {"etcd1": started, "etcd2": started, "etcd3": started},
	})
	var r recorder
	barrier := func(group []string) func(string) error {
		var wg sync.WaitGroup
		wg.Add(len(group))
		return func(string) error {
			wg.Done()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
				return nil
			case <-time.After(5 * time.Second):
				return errors.New("the services of one group did not start together")
			}
		}
	}
	etcdB, pgB := barrier([]string{"etcd1", "etcd2", "etcd3"}), barrier([]string{"pg1", "pg2", "pg3"})
	err := startInDependencyOrder(context.Background(), p,
		func(ctx context.Context, service, dep, cond string) error {
			r.add("wait " + dep)
			return nil
		},
		func(ctx context.Context, service string) error {
			r.add("begin " + service)
			var err error
			if service[:2] == "pg" {
				err = pgB(service)
			} else {
				err = etcdB(service)
			}
			r.add("start " + service)
			return err
		})
	require.NoError(t, err)
	for _, pg := range []string{"pg1", "pg2", "pg3"} {
		for _, e := range []string{"etcd1", "etcd2", "etcd3"} {
			assert.Less(t, r.index("start "+e), r.index("begin "+pg), "%s begins after %s has started", pg, e)
		}
	}
	assert.Zero(t, r.count("wait etcd1"), "service_started needs no wait beyond the start")
}

func TestStartWaitsForConditions(t *testing.T) {
	p := project(map[string]map[string]string{
		"db":      nil,
		"migrate": {"db": types.ServiceConditionHealthy},
		"app":     {"db": types.ServiceConditionHealthy, "migrate": types.ServiceConditionCompletedSuccessfully},
		"web":     {"db": types.ServiceConditionHealthy},
	})
	var r recorder
	err := startInDependencyOrder(context.Background(), p,
		func(ctx context.Context, service, dep, cond string) error {
			r.add("wait " + dep + " " + cond)
			time.Sleep(20 * time.Millisecond)
			r.add("met " + dep + " " + cond)
			return nil
		},
		func(ctx context.Context, service string) error {
			r.add("start " + service)
			return nil
		})
	require.NoError(t, err)
	assert.Equal(t, 1, r.count("wait db service_healthy"), "one wait shared by every service that needs it: %v", r.events)
	assert.Less(t, r.index("met db service_healthy"), r.index("start migrate"))
	assert.Less(t, r.index("met db service_healthy"), r.index("start web"))
	assert.Less(t, r.index("start migrate"), r.index("wait migrate service_completed_successfully"))
	assert.Less(t, r.index("met migrate service_completed_successfully"), r.index("start app"))
	for _, s := range []string{"db", "migrate", "app", "web"} {
		assert.Equal(t, 1, r.count("start "+s), s)
	}
}

func TestStartStopsAtTheFirstError(t *testing.T) {
	tests := []struct {
		name      string
		startErr  string // service whose start fails
		waitErr   string // dependency whose wait fails
		notStart  []string
		wantError string
	}{
		{name: "a start fails", startErr: "db", notStart: []string{"app", "web"}, wantError: "start db: boom"},
		{name: "a health wait fails", waitErr: "db", notStart: []string{"app", "web"}, wantError: "db is unhealthy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := project(map[string]map[string]string{
				"db":    nil,
				"app":   {"db": types.ServiceConditionHealthy},
				"web":   {"db": types.ServiceConditionHealthy},
				"other": nil,
			})
			var r recorder
			err := startInDependencyOrder(context.Background(), p,
				func(ctx context.Context, service, dep, cond string) error {
					if dep == tc.waitErr {
						return errors.New(dep + " is unhealthy")
					}
					return nil
				},
				func(ctx context.Context, service string) error {
					if service == tc.startErr {
						return errors.New("start " + service + ": boom")
					}
					r.add("start " + service)
					return nil
				})
			require.Error(t, err)
			assert.Equal(t, tc.wantError, err.Error(), "reported once, without the cancellation it caused")
			for _, s := range tc.notStart {
				assert.Equal(t, -1, r.index("start "+s), "%s must not start", s)
			}
		})
	}
}

func TestStartCancelled(t *testing.T) {
	p := project(map[string]map[string]string{
		"db":  nil,
		"app": {"db": types.ServiceConditionHealthy},
	})
	ctx, cancel := context.WithCancel(context.Background())
	var started []string
	var mu sync.Mutex
	err := startInDependencyOrder(ctx, p,
		func(ctx context.Context, service, dep, cond string) error {
			cancel() // Ctrl-C while waiting
			<-ctx.Done()
			return ctx.Err()
		},
		func(ctx context.Context, service string) error {
			mu.Lock()
			started = append(started, service)
			mu.Unlock()
			return nil
		})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	sort.Strings(started)
	assert.Equal(t, []string{"db"}, started)
}

func TestStartRefusesACycle(t *testing.T) {
	p := project(map[string]map[string]string{
		"a": {"b": types.ServiceConditionStarted},
		"b": {"a": types.ServiceConditionStarted},
	})
	err := startInDependencyOrder(context.Background(), p,
		func(context.Context, string, string, string) error { return nil },
		func(context.Context, string) error { t.Error("nothing may start"); return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cycle")
}
