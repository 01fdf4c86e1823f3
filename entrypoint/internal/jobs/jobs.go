package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/plugins/sdk"
)

// Spec is one plugin's job.
type Spec struct {
	Plugin string
	sdk.Job
}

// TimeoutGrace is how long a job that reached its timeout has between
// SIGTERM and SIGKILL.
const TimeoutGrace = 5 * time.Second

// Parse parses a schedule: 5 cron fields (minute hour day-of-month month
// day-of-week) or a descriptor (@yearly, @monthly, @weekly, @daily,
// @hourly, @every <duration>), robfig/cron/v3's standard parser.
func Parse(schedule string) (cron.Schedule, error) {
	return cron.ParseStandard(schedule)
}

// Validate parses every spec's schedule and reports every bad one, naming
// plugin and job. An empty schedule is a job run on demand only (RunNow).
func Validate(specs []Spec) error {
	var errs []error
	for _, s := range specs {
		if s.Schedule == "" {
			continue
		}
		if _, err := Parse(s.Schedule); err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: job %s: invalid schedule %q (5 cron fields or a descriptor such as @daily or @every 1h): %w", s.Plugin, s.Name, s.Schedule, err))
		}
	}
	return errors.Join(errs...)
}

// Options configure a Scheduler.
type Options struct {
	Specs  []Spec
	Reaper *reaper.Reaper // starts every job (required)
	Log    *zap.Logger
	// OnResult, if set, is called (in its own goroutine) with all of a
	// plugin's results whenever one of its jobs starts or ends.
	OnResult func(plugin string, results map[string]sdk.JobResult)
	// Role is the node's role at start (SetRole changes it).
	Role sdk.Role
}

type job struct {
	Spec
	sched cron.Schedule
	log   *zap.Logger

	mu      sync.Mutex
	running *reaper.Child // nil when not running
	last    sdk.JobResult
}

// Scheduler runs the jobs. Its methods are safe for concurrent use.
type Scheduler struct {
	o    Options
	jobs []*job
	cron *cron.Cron

	mu       sync.Mutex
	role     sdk.Role
	stopping bool
	stopCh   chan struct{}
	wg       sync.WaitGroup
}

// New parses every schedule (Validate's error on any bad one) and returns a
// Scheduler that has not started.
func New(o Options) (*Scheduler, error) {
	if o.Reaper == nil {
		return nil, errors.New("jobs: no reaper")
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if err := Validate(o.Specs); err != nil {
		return nil, err
	}
	s := &Scheduler{o: o, role: o.Role, stopCh: make(chan struct{}), cron: cron.New()}
	for _, sp := range o.Specs {
		j := &job{Spec: sp, log: o.Log.With(zap.String("plugin", sp.Plugin), zap.String("job", sp.Name))}
		j.last = sdk.JobResult{Name: sp.Name}
		s.jobs = append(s.jobs, j)
		if sp.Schedule == "" {
			continue // on demand only
		}
		j.sched, _ = Parse(sp.Schedule)
		s.cron.Schedule(j.sched, cron.FuncJob(func() { s.tick(j) }))
	}
	return s, nil
}

// Start starts the schedules.
func (s *Scheduler) Start() {
	if s != nil && len(s.jobs) > 0 {
		s.cron.Start()
		for _, j := range s.jobs {
			if j.Schedule == "" {
				j.log.Debug("job runs on demand only", zap.Bool("primary_only", j.PrimaryOnly))
				continue
			}
			j.log.Info("job scheduled", zap.String("schedule", j.Schedule), zap.Bool("primary_only", j.PrimaryOnly))
		}
	}
}

// SetRole records the node's role (primary-only jobs run only on the
// primary). Start, SetRole and Stop do nothing on a nil Scheduler.
func (s *Scheduler) SetRole(r sdk.Role) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.role = r
	s.mu.Unlock()
}

func (s *Scheduler) find(plugin, name string) *job {
	for _, j := range s.jobs {
		if j.Plugin == plugin && j.Name == name {
			return j
		}
	}
	return nil
}

// Results returns the last result of each of plugin's jobs.
func (s *Scheduler) Results(plugin string) map[string]sdk.JobResult {
	out := map[string]sdk.JobResult{}
	for _, j := range s.jobs {
		if j.Plugin == plugin {
			j.mu.Lock()
			out[j.Name] = j.last
			j.mu.Unlock()
		}
	}
	return out
}

func (s *Scheduler) tick(j *job) {
	if _, err := s.run(context.Background(), j, "schedule"); err != nil {
		j.log.Info("scheduled run skipped", zap.String("reason", err.Error()))
	}
}

// RunNow runs plugin's job name at once and waits for it (the on-demand
// run, e.g. `pgdock-entrypoint backup`). It refuses while the job runs, on
// a node that is not the primary for a primary-only job, and once the
// scheduler stops. ctx cancels the run (SIGTERM, then SIGKILL after
// TimeoutGrace).
func (s *Scheduler) RunNow(ctx context.Context, plugin, name string) (sdk.JobResult, error) {
	j := s.find(plugin, name)
	if j == nil {
		return sdk.JobResult{}, fmt.Errorf("plugin %s has no job %q", plugin, name)
	}
	return s.run(ctx, j, "on demand")
}

// errSkipped reasons.
var (
	errRunning    = errors.New("the previous run is still running")
	errNotPrimary = errors.New("the job runs on the primary only")
	errStopping   = errors.New("the entrypoint is stopping")
)

func (s *Scheduler) run(ctx context.Context, j *job, trigger string) (sdk.JobResult, error) {
	s.mu.Lock()
	role, stopping := s.role, s.stopping
	if !stopping {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if stopping {
		return sdk.JobResult{}, errStopping
	}
	defer s.wg.Done()
	if j.PrimaryOnly && role != sdk.RolePrimary {
		if role == sdk.RoleUnspecified {
			return sdk.JobResult{}, fmt.Errorf("%w (this node is not ready yet, its role is unknown: retry once it is)", errNotPrimary)
		}
		return sdk.JobResult{}, fmt.Errorf("%w (this node: %s)", errNotPrimary, role)
	}
	j.mu.Lock()
	if j.running != nil {
		j.mu.Unlock()
		j.log.Warn("job tick skipped: the previous run is still running")
		return sdk.JobResult{}, errRunning
	}
	cmd := exec.Command(j.Argv[0], j.Argv[1:]...)
	for _, k := range sortedKeys(j.Env) {
		cmd.Env = append(cmd.Env, k+"="+j.Env[k])
	}
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	out := &lineLog{log: j.log}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	started := time.Now()
	child, err := s.o.Reaper.Start(cmd)
	if err != nil {
		j.last = sdk.JobResult{Name: j.Name, Started: started, Finished: time.Now(), ExitCode: -1, Error: "cannot start: " + err.Error()}
		res := j.last
		j.mu.Unlock()
		j.log.Error("job could not start", zap.Error(err))
		s.push(j.Plugin)
		return res, nil
	}
	j.running = child
	j.last = sdk.JobResult{Name: j.Name, Started: started, Running: true}
	j.mu.Unlock()
	j.log.Info("job started", zap.String("trigger", trigger), zap.Int("pid", child.Pid()))
	s.push(j.Plugin)

	var timeout <-chan time.Time
	if j.TimeoutSeconds > 0 {
		t := time.NewTimer(time.Duration(j.TimeoutSeconds) * time.Second)
		defer t.Stop()
		timeout = t.C
	}
	reason := ""
	var kill <-chan time.Time
	term := func(why string) {
		if reason == "" {
			reason = why
			child.KillGroup(syscall.SIGTERM)
			t := time.NewTimer(TimeoutGrace)
			kill = t.C
		}
	}
	stopCh, ctxDone := s.stopCh, ctx.Done()
wait:
	for {
		select {
		case <-child.Done():
			break wait
		case <-timeout:
			timeout = nil
			term(fmt.Sprintf("timed out after %ds", j.TimeoutSeconds))
		case <-ctxDone:
			ctxDone = nil
			term("cancelled")
		case <-stopCh:
			stopCh = nil
			term("stopped at shutdown")
		case <-kill:
			kill = nil
			child.KillGroup(syscall.SIGKILL)
		}
	}
	child.KillGroup(syscall.SIGKILL) // nothing of the job outlives it
	ioDone := make(chan struct{})
	go func() { _ = child.Wait(); close(ioDone) }()
	select {
	case <-ioDone:
	case <-time.After(time.Second): // a leftover holding the output pipe
	}
	out.flush()
	finished := time.Now()
	res := sdk.JobResult{Name: j.Name, Started: started, Finished: finished, ExitCode: reaper.Code(child.Status())}
	if res.ExitCode != 0 {
		res.Error = reaper.Describe(child.Status())
	}
	if reason != "" {
		res.Error = reason + " (" + reaper.Describe(child.Status()) + ")"
	}
	j.mu.Lock()
	j.running = nil
	j.last = res
	j.mu.Unlock()
	fields := []zap.Field{zap.Duration("took", finished.Sub(started).Round(time.Millisecond)), zap.Int("exit_code", res.ExitCode)}
	if res.Error != "" {
		j.log.Error("job failed", append(fields, zap.String("error", res.Error))...)
	} else {
		j.log.Info("job finished", fields...)
	}
	s.push(j.Plugin)
	return res, nil
}

func (s *Scheduler) push(plugin string) {
	if s.o.OnResult != nil {
		results := s.Results(plugin)
		go s.o.OnResult(plugin, results)
	}
}

// Stop stops the schedules, sends SIGTERM to every running job's group and
// SIGKILL to those still running at 80 % of budget, and returns once every
// run ended (or budget is over).
func (s *Scheduler) Stop(budget time.Duration) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return
	}
	s.stopping = true
	close(s.stopCh)
	s.mu.Unlock()
	s.cron.Stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(time.Duration(0.8 * float64(budget)))
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	for _, j := range s.jobs {
		j.mu.Lock()
		if j.running != nil {
			j.log.Warn("job did not stop after SIGTERM; SIGKILL")
			j.running.KillGroup(syscall.SIGKILL)
		}
		j.mu.Unlock()
	}
	rest := time.NewTimer(budget / 5)
	defer rest.Stop()
	select {
	case <-done:
	case <-rest.C:
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lineLog logs every complete output line of a job.
type lineLog struct {
	log *zap.Logger
	mu  sync.Mutex
	buf []byte
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.log.Info("job output", zap.String("line", string(bytes.TrimRight(l.buf[:i], "\r"))))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a very long line without a newline
		l.log.Info("job output", zap.String("line", string(l.buf)))
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.log.Info("job output", zap.String("line", string(l.buf)))
		l.buf = nil
	}
}
