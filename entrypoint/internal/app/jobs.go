package app

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/jobs"
	"github.com/pgdock/pgdock/plugins/sdk"
)

// setupJobs parses the jobs the plugins' last Configure returned; a bad
// schedule is an error naming the plugin and the job. Nothing is created
// when no plugin declared a job; a second call keeps the first scheduler.
func (s *server) setupJobs() error {
	specs := s.plugins.jobSpecs()
	if len(specs) == 0 || s.jobs != nil {
		return nil
	}
	sch, err := jobs.New(jobs.Options{
		Specs: specs, Reaper: s.r.reaper, Log: s.log().Named("jobs"),
		OnResult: s.plugins.pushJobResults,
	})
	if err != nil {
		return err
	}
	s.jobs = sch
	return nil
}

// startJobs starts the schedules once the server is ready.
func (s *server) startJobs(role sdk.Role) {
	s.jobs.SetRole(role)
	s.jobs.Start()
}

// listenJobHooks opens the hooks socket in direct mode when jobs exist, for
// on-demand runs (hook run-job); nil otherwise.
func (s *server) listenJobHooks(ctx context.Context) *hooksServer {
	if s.jobs == nil {
		return nil
	}
	h, err := listenHooks(ctx, filepath.Join(s.r.socketHome(), "hooks"), s.log(), func(ctx context.Context, req string, args []string) (string, error) {
		return s.handleHook(ctx, nil, req, args)
	})
	if err != nil {
		s.log().Warn("no hooks socket: jobs cannot be run on demand", zap.Error(err))
		return nil
	}
	s.state.hooksSocket = h.path
	return h
}

// stopHooksAndJobs runs the plugins' stopping hooks and stops running jobs
// together, both inside budget.
func (s *server) stopHooksAndJobs(budget time.Duration) {
	var wg sync.WaitGroup
	wg.Go(func() { s.jobs.Stop(budget) })
	hctx, cancel := context.WithTimeout(s.ctx, budget)
	s.plugins.stopping(hctx)
	cancel()
	wg.Wait()
}
