package scenario

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/progress"
	"github.com/pgdock/pgdock/testrig/internal/result"
)

// Scenario is one thing the rig proves about the stacks.
type Scenario struct {
	Name        string
	Description string
	// Budgets that apply to every run of the scenario; Run may add more
	// with T.Budget.
	Budgets []budget.Budget
	// Timeout bounds Run (DefaultTimeout when zero); the teardown has its
	// own deadline after it.
	Timeout time.Duration
	// Run does the work. It returns when done or after a failed check it
	// cannot go on from; the rig tears down every stack it brought up.
	Run func(ctx context.Context, t *T)
	// PerMajor: a direct-mode scenario, run once per PostgreSQL major with
	// `testrig run --pg 13,15,…` (on pgdock/postgres:<major>, Env.PG).
	PerMajor bool
}

// DefaultTimeout bounds a scenario's Run when it sets no Timeout.
const DefaultTimeout = 10 * time.Minute

// Env is what the runner gives every scenario.
type Env struct {
	Driver   *engine.Driver
	Root     string // repository root; compose files are under Root/compose
	RunID    string
	Log      *zap.Logger
	Progress *progress.Printer
	// ComposeEnv is added to the environment compose files are
	// interpolated with (e.g. PGDOCK_IMAGE=… for a local tag).
	ComposeEnv []string
	// ReportGoals makes pgdock's own goals (budget.Goal) advisory: a run
	// reports a goal it exceeded instead of failing on it. The plan's
	// budgets are always enforced.
	ReportGoals bool
	// PG is the pgdock/postgres image a per-major run is for (--pg); the
	// zero value: the compose files' default image with the layout of
	// PostgreSQL up to 17.
	PG PGImage
}

// PGImage is one major's pgdock/postgres image and its data layout, read
// from the image (its PGDATA and declared volume).
type PGImage struct {
	Major  int
	Ref    string // pgdock/postgres:<major>
	PGData string // the image's PGDATA
	Volume string // the image's data volume (PGDATA itself up to 17, /var/lib/postgresql from 18)
}

// DefaultPGData is PGDATA and the data volume of the images up to 17, where
// the compose files mount the data volume.
const DefaultPGData = "/var/lib/postgresql/data"

// PGDataDir is the image's PGDATA (DefaultPGData when unknown).
func (e Env) PGDataDir() string {
	if e.PG.PGData != "" {
		return e.PG.PGData
	}
	return DefaultPGData
}

// VolumeDir is where the image keeps its data volume (DefaultPGData when
// unknown).
func (e Env) VolumeDir() string {
	if e.PG.Volume != "" {
		return e.PG.Volume
	}
	return DefaultPGData
}

// retargetVolumes moves a data mount the compose files put at
// DefaultPGData to the image's volume (from 18, /var/lib/postgresql), for
// the services that run the image under test: mounted at the old place, the
// data would land in the image's anonymous volume instead.
func retargetVolumes(p *types.Project, pg PGImage) {
	if pg.Ref == "" || pg.Volume == "" || pg.Volume == DefaultPGData {
		return
	}
	for name, svc := range p.Services {
		if svc.Image != pg.Ref {
			continue
		}
		for i := range svc.Volumes {
			if svc.Volumes[i].Target == DefaultPGData {
				svc.Volumes[i].Target = pg.Volume
			}
		}
		p.Services[name] = svc
	}
}

// T records one scenario's run.
type T struct {
	env   Env
	name  string
	start time.Time
	acct  *budget.Account

	mu      sync.Mutex
	checks  []result.Check
	tl      result.Timeline
	stacks  []*engine.Stack
	tmp     []string
	nstacks int
}

// NewT starts recording a scenario.
func NewT(env Env, s Scenario) *T {
	t := &T{env: env, name: s.Name, start: time.Now()}
	t.acct = t.newAccount(s.Budgets...)
	return t
}

func (t *T) newAccount(bs ...budget.Budget) *budget.Account {
	a := budget.NewAccount(bs...)
	if t.env.ReportGoals {
		a.Advise(budget.Goal)
	}
	return a
}

// Name of the scenario.
func (t *T) Name() string { return t.name }

// Env of the run.
func (t *T) Env() Env { return t.env }

// Start is the scenario's time zero.
func (t *T) Start() time.Time { return t.start }

// Step shows what the scenario is doing now.
func (t *T) Step(format string, args ...any) {
	if t.env.Progress != nil {
		t.env.Progress.Step("%s: %s", t.name, fmt.Sprintf(format, args...))
	}
}

// Check runs fn as a named check and records pass or fail (with fn's
// error). It returns whether the check passed, so a scenario can stop when a
// later step makes no sense without it.
func (t *T) Check(name string, fn func() error) bool {
	t.Step("%s", name)
	begin := time.Now()
	err := fn()
	c := result.Check{Name: name, Status: result.Pass, Took: time.Since(begin)}
	if err != nil {
		c.Status, c.Message = result.Fail, err.Error()
	}
	t.record(c)
	return err == nil
}

// Fail records a failed check without running anything.
func (t *T) Fail(name string, err error) {
	t.record(result.Check{Name: name, Status: result.Fail, Message: err.Error()})
}

// Skip records a skipped check with the reason it could not run.
func (t *T) Skip(name, reason string) {
	t.record(result.Check{Name: name, Status: result.Skip, Message: reason})
}

func (t *T) record(c result.Check) {
	t.mu.Lock()
	t.checks = append(t.checks, c)
	t.mu.Unlock()
	if t.env.Progress != nil {
		detail := ""
		if c.Message != "" {
			detail = " — " + c.Message
		}
		t.env.Progress.Line("  %-4s %s: %s (%s)%s", c.Status, t.name, c.Name, c.Took.Round(time.Millisecond), detail)
	}
}

// Budget adds a budget that applies to this run.
func (t *T) Budget(b budget.Budget) {
	t.mu.Lock()
	defer t.mu.Unlock()
	bs := append(t.acct.Budgets(), b)
	ms := t.acct.Measurements()
	t.acct = t.newAccount(bs...)
	for _, m := range ms {
		t.acct.Add(m.Metric, m.Took)
	}
}

// Measure records a measured duration for a metric.
func (t *T) Measure(metric string, d time.Duration) {
	t.mu.Lock()
	t.acct.Add(metric, d)
	t.mu.Unlock()
	if t.env.Progress != nil {
		t.env.Progress.Line("  time %s: %s %s", t.name, metric, d.Round(time.Millisecond))
	}
}

// Span puts a phase on the timeline.
func (t *T) Span(lane, name string, from, to time.Time) {
	if from.IsZero() || to.IsZero() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tl.Spans = append(t.tl.Spans, result.Span{Lane: lane, Name: name, Start: from.Sub(t.start), End: to.Sub(t.start)})
}

// Mark puts an instant on the timeline.
func (t *T) Mark(lane, name string, at time.Time) {
	if at.IsZero() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tl.Marks = append(t.tl.Marks, result.Mark{Lane: lane, Name: name, At: at.Sub(t.start)})
}

// TempDir makes a directory removed after the scenario.
func (t *T) TempDir() (string, error) {
	d, err := os.MkdirTemp("", "testrig-"+t.name+"-")
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	t.tmp = append(t.tmp, d)
	t.mu.Unlock()
	return d, nil
}

// StackSpec says which compose files to bring up and how the rig adjusts them.
type StackSpec struct {
	Files    []string // relative to the repository root
	Profiles []string
	Env      []string // interpolation variables (KEY=VALUE)
	// Adjust changes the loaded project before anything is created (extra
	// environment, mounts, a --user).
	Adjust func(p *types.Project) error
}

// Load reads a stack's compose files under a project name unique to this
// run, with every published port moved to an ephemeral port on 127.0.0.1 so
// runs never collide with each other or with a user's stack.
func (t *T) Load(ctx context.Context, s StackSpec) (*types.Project, error) {
	t.mu.Lock()
	t.nstacks++
	n := t.nstacks
	t.mu.Unlock()
	files := make([]string, len(s.Files))
	for i, f := range s.Files {
		files[i] = filepath.Join(t.env.Root, f)
	}
	p, err := composefile.Load(ctx, composefile.Options{
		Files:       files,
		ProjectName: ProjectName(t.env.RunID, t.name, n),
		Profiles:    s.Profiles,
		Env:         append(append([]string{}, t.env.ComposeEnv...), s.Env...),
		UseOSEnv:    true,
	})
	if err != nil {
		return nil, err
	}
	composefile.LoopbackPorts(p)
	retargetVolumes(p, t.env.PG)
	if s.Adjust != nil {
		if err := s.Adjust(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Up loads and creates a stack and starts it. The stack is torn down after
// the scenario whatever happens; hooks may be zero.
func (t *T) Up(ctx context.Context, s StackSpec, h engine.Hooks) (*engine.Stack, error) {
	p, err := t.Load(ctx, s)
	if err != nil {
		return nil, err
	}
	st := t.env.Driver.NewStack(p)
	t.mu.Lock()
	t.stacks = append(t.stacks, st)
	t.mu.Unlock()
	return st, st.Up(ctx, h)
}

// ProjectName is the compose project name of a scenario's n-th stack.
func ProjectName(runID, scenario string, n int) string {
	return strings.ToLower(fmt.Sprintf("pgdockrig-%s-%s%d", runID, scenario, n))
}

// NewRunID returns a short random id for a run.
func NewRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Finish tears down the scenario's stacks (unless keep and the scenario
// failed), removes its temporary directories and returns the result.
// Teardown uses its own context: it runs after Ctrl-C too.
func (t *T) Finish(keep bool) (result.Scenario, error) {
	t.mu.Lock()
	res := result.Scenario{
		Name:         t.name,
		Started:      t.start,
		Took:         time.Since(t.start),
		Checks:       append([]result.Check(nil), t.checks...),
		Budgets:      t.acct.Checks(),
		Measurements: t.acct.Measurements(),
		Timeline:     t.tl,
	}
	// A missed budget fails the scenario through res.Budgets (Status, the
	// summary, one JUnit testcase per budget); it is not repeated as a check.
	if t.env.Progress != nil {
		for _, f := range t.acct.Failures() {
			t.env.Progress.Line("  MISSED %s: %s", t.name, f)
		}
	}
	stacks, tmp := t.stacks, t.tmp
	t.stacks, t.tmp = nil, nil
	t.mu.Unlock()
	sort.SliceStable(res.Timeline.Spans, func(i, j int) bool { return res.Timeline.Spans[i].Start < res.Timeline.Spans[j].Start })

	if keep && res.Status() == result.Fail {
		for _, s := range stacks {
			t.env.Log.Warn("--keep: leaving the failed stack up; the next testrig run sweeps it", zap.String("project", s.Project.Name))
		}
		return res, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for i := len(stacks) - 1; i >= 0; i-- {
		if err := stacks[i].Down(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range tmp {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}
