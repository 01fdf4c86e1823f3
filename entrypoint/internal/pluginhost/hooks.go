package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Problem is one validation finding, from a plugin's own Validate or from
// the host (conflicts between plugins, missing programs, bad policies).
type Problem struct {
	Plugin  string // plugin name; several joined by ',' for conflicts
	Var     string // environment variable at fault, when there is one
	Message string
	// Missing marks a required program, extension or library that is not
	// installed: a start refuses it, `config render` shows it as a warning.
	Missing bool
}

func (p Problem) String() string {
	s := "plugin " + p.Plugin + ": "
	if p.Var != "" {
		s += p.Var + ": "
	}
	return s + p.Message
}

// Conn is how plugins reach the running server (unix socket).
type Conn = sdk.Conn

// ConfigureInput describes the server to Configure and ModeCommand.
type ConfigureInput struct {
	PGData    string
	Port      int
	SocketDir string
	Superuser string // POSTGRES_USER
	Database  string // POSTGRES_DB
	FirstBoot bool
	// FilesDir is the base directory for plugin files; plugin <name>'s
	// files go to FilesDir/<name>/. The entrypoint writes them (File.Path
	// is already joined). Required when a plugin returns files.
	FilesDir string
}

// Setting is a PostgreSQL parameter contributed by a plugin.
type Setting struct {
	Name   string // lower case
	Value  string
	Plugin string
}

// File is a file a plugin asked the host to write.
type File struct {
	Plugin  string
	Path    string // absolute: FilesDir/<plugin>/<relative path>
	Content []byte
	Mode    os.FileMode // never world-accessible; 0600 when the plugin gave 0
}

// Contribution is everything the enabled plugins add to the configuration.
type Contribution struct {
	Settings         []Setting // Describe's static settings, then Configure's, in hook order; no duplicates
	PreloadLibraries []string  // shared_preload_libraries in load order
	HBARules         []string  // canonical pg_hba lines (validated like PG_HBA_ADD_n), in hook order then declared order
	Files            []File
	// Sections are the configuration sections plugins contributed to an
	// enabled plugin (their target); sections for a plugin that is not
	// enabled are dropped.
	Sections []Section
	// Jobs are the plugins' scheduled jobs, in hook order.
	Jobs []Job
	// BootstrapProvider is the plugin that asked to provide this first boot
	// (ProvidesBootstrap + WantsBootstrap) or, on a later boot, to replace
	// the existing cluster (a forced restore); empty when none did.
	BootstrapProvider string
}

// Section is a configuration section one plugin contributed to another.
type Section struct {
	From string // the contributing plugin
	sdk.Section
}

// Job is a plugin's scheduled job.
type Job struct {
	Plugin string
	sdk.Job
}

// Command is the process a mode provider asks the host to supervise.
type Command struct {
	Plugin     string
	Mode       string
	Argv       []string
	Env        []string // the child's complete environment, "K=V", sorted
	Dir        string
	StopSignal syscall.Signal
	// OwnsBootstrap: the command creates the cluster itself (see
	// sdk.Command.OwnsBootstrap).
	OwnsBootstrap bool
	// Files the host writes before it starts the command (checked like
	// Configure's files; Path is absolute).
	Files []File
}

func (m *Manager) hookCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.opts.HookTimeout)
}

func (m *Manager) described() []described {
	ds := make([]described, 0, len(m.instances))
	for _, inst := range m.instances {
		ds = append(ds, described{name: inst.name, desc: inst.desc})
	}
	return ds
}

// Validate returns every problem at once: each plugin's own findings (its
// Validate hook with its declared env), bad crash policy values, required
// programs missing from PATH (naming the Debian package), required
// extensions missing from ExtensionDir, and conflicts between plugins (a
// setting with different values, two mode providers, preload ordering).
func (m *Manager) Validate(ctx context.Context) []Problem {
	results := make([][]Problem, len(m.instances))
	var wg sync.WaitGroup
	for i, inst := range m.instances {
		wg.Go(func() {
			hctx, cancel := m.hookCtx(ctx)
			defer cancel()
			found, err := inst.rpc.Validate(hctx, inst.env)
			var out []Problem
			if err != nil {
				out = append(out, Problem{Plugin: inst.name, Message: "validation failed: " + err.Error()})
			}
			for _, p := range found {
				out = append(out, Problem{Plugin: inst.name, Var: p.Var, Message: p.Message})
			}
			out = append(out, inst.problems...)
			out = append(out, requirementProblems(inst.name, inst.desc, pathOf(m.opts.Env), m.opts.ExtensionDir, m.opts.LibDir)...)
			results[i] = out
		})
	}
	wg.Wait()
	problems := append([]Problem(nil), m.orderProblems...)
	for _, r := range results {
		problems = append(problems, r...)
	}
	return append(problems, crossProblems(m.described())...)
}

// Configure asks every plugin for its configuration and merges it. Errors
// name the plugin; conflicting settings are an error (Validate reports
// the static ones earlier).
func (m *Manager) Configure(ctx context.Context, in ConfigureInput) (Contribution, error) {
	var c Contribution
	if len(m.instances) == 0 {
		return c, nil
	}
	m.mu.Lock()
	input := in
	m.lastInput = &input
	m.mu.Unlock()

	type result struct {
		conf sdk.Configuration
		err  error
	}
	results := make([]result, len(m.instances))
	var wg sync.WaitGroup
	for i, inst := range m.instances {
		wg.Go(func() {
			hctx, cancel := m.hookCtx(ctx)
			defer cancel()
			conf, err := inst.rpc.Configure(hctx, sdk.ConfigureRequest{Env: inst.env, Server: inst.server(in)})
			results[i] = result{conf, err}
		})
	}
	wg.Wait()

	var errs []error
	var settings []Setting
	for _, inst := range m.instances {
		for _, s := range inst.desc.Settings {
			settings = append(settings, Setting{Name: s.Name, Value: s.Value, Plugin: inst.name})
		}
	}
	for i, inst := range m.instances {
		r := results[i]
		if r.err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, r.err))
			continue
		}
		for _, s := range r.conf.Settings {
			settings = append(settings, Setting{Name: s.Name, Value: s.Value, Plugin: inst.name})
		}
		for _, rule := range r.conf.HBARules {
			line, err := checkHBARule(rule)
			if err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
				continue
			}
			c.HBARules = append(c.HBARules, line)
		}
		for _, sec := range r.conf.Sections {
			if err := checkSection(sec); err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
				continue
			}
			if m.instance(sec.Target) == nil {
				inst.log.Debug("configuration section for a plugin that is not enabled dropped", zap.String("target", sec.Target), zap.String("section", sec.Name))
				continue
			}
			if prev := findSection(c.Sections, sec.Target, sec.Name); prev != nil {
				errs = append(errs, fmt.Errorf("plugins %s and %s both contribute section %q to %s", prev.From, inst.name, sec.Name, sec.Target))
				continue
			}
			c.Sections = append(c.Sections, Section{From: inst.name, Section: sec})
		}
		for _, j := range r.conf.Jobs {
			if err := checkJob(j, c.Jobs, inst.name); err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
				continue
			}
			c.Jobs = append(c.Jobs, Job{Plugin: inst.name, Job: j})
		}
		if r.conf.WantsBootstrap {
			switch {
			case !inst.desc.ProvidesBootstrap:
				errs = append(errs, fmt.Errorf("plugin %s: wants to provide the first boot but does not declare provides_bootstrap", inst.name))
			case c.BootstrapProvider != "":
				errs = append(errs, fmt.Errorf("plugins %s and %s both want to provide the first boot; enable only one of them for it", c.BootstrapProvider, inst.name))
			default:
				c.BootstrapProvider = inst.name
			}
		}
		for _, f := range r.conf.Files {
			rel, err := checkFile(f)
			if err == nil && in.FilesDir == "" {
				err = errors.New("returned files but ConfigureInput.FilesDir is empty")
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
				continue
			}
			mode := f.Mode.Perm()
			if mode == 0 {
				mode = 0o600
			}
			c.Files = append(c.Files, File{Plugin: inst.name, Path: filepath.Join(in.FilesDir, inst.name, rel), Content: f.Content, Mode: mode})
		}
	}
	var problems []Problem
	c.Settings, problems = mergeSettings(settings)
	var pp []Problem
	c.PreloadLibraries, pp = mergePreload(m.described())
	for _, p := range append(problems, pp...) {
		errs = append(errs, errors.New(p.String()))
	}
	if err := errors.Join(errs...); err != nil {
		return Contribution{}, fmt.Errorf("configure plugins: %w", err)
	}
	return c, nil
}

func (inst *instance) server(in ConfigureInput) sdk.Server {
	s := sdk.Server{
		PGData:    in.PGData,
		Port:      in.Port,
		SocketDir: in.SocketDir,
		Superuser: in.Superuser,
		Database:  in.Database,
		FirstBoot: in.FirstBoot,
	}
	if in.FilesDir != "" {
		s.FilesDir = filepath.Join(in.FilesDir, inst.name)
	}
	return s
}

// Bootstrap runs every plugin's first-boot hook, one after the other in
// hook order, and stops at the first failure. Only ctx bounds it (a restore
// from backup may take long).
func (m *Manager) Bootstrap(ctx context.Context, conn Conn) error {
	for _, inst := range m.instances {
		inst.log.Info("running plugin bootstrap")
		if err := inst.rpc.Bootstrap(ctx, sdk.HookRequest{Env: inst.env, Conn: conn}); err != nil {
			return fmt.Errorf("plugin %s: %w", inst.name, err)
		}
	}
	return nil
}

// Started tells every plugin the server is ready, in hook order, with the
// node's role, and returns every failure.
func (m *Manager) Started(ctx context.Context, conn Conn, role sdk.Role) error {
	var errs []error
	for _, inst := range m.instances {
		hctx, cancel := m.hookCtx(ctx)
		err := inst.rpc.Started(hctx, sdk.HookRequest{Env: inst.env, Conn: conn, Role: role})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
		}
	}
	return errors.Join(errs...)
}

// Stopping calls every running plugin's stopping hook, in reverse hook
// order (a plugin stops before those it runs after), and logs failures.
// Call it when shutdown begins, before PostgreSQL stops; ctx bounds it all.
func (m *Manager) Stopping(ctx context.Context) {
	for i := len(m.instances) - 1; i >= 0; i-- {
		inst := m.instances[i]
		if inst.exited.Load() {
			continue
		}
		hctx, cancel := m.hookCtx(ctx)
		if err := inst.rpc.Stopping(hctx); err != nil {
			inst.log.Warn("plugin stopping hook failed", zap.Error(err))
		}
		cancel()
	}
}

// RoleChanged tells every running plugin, in hook order, that the node's
// role changed, and returns every failure.
func (m *Manager) RoleChanged(ctx context.Context, conn Conn, role, previous sdk.Role) error {
	var errs []error
	for _, inst := range m.instances {
		if inst.exited.Load() {
			continue
		}
		hctx, cancel := m.hookCtx(ctx)
		err := inst.rpc.RoleChanged(hctx, sdk.RoleChange{Role: role, Previous: previous, Env: inst.env, Conn: conn})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", inst.name, err))
		}
	}
	return errors.Join(errs...)
}

// ModeStatus asks the mode provider for its status.
func (m *Manager) ModeStatus(ctx context.Context) (sdk.ModeStatus, error) {
	p := m.modeProvider()
	if p == nil {
		return sdk.ModeStatus{}, errors.New("no plugin provides a run mode")
	}
	hctx, cancel := m.hookCtx(ctx)
	defer cancel()
	st, err := p.rpc.ModeStatus(hctx)
	if err != nil {
		return st, fmt.Errorf("plugin %s: %w", p.name, err)
	}
	return st, nil
}

// BootstrapProvide asks plugin name (Contribution.BootstrapProvider) for
// the command that replaces initdb. It uses the input of the last Configure
// call, with dataDir as the data directory the command must fill (the host
// moves it into PGDATA afterwards).
func (m *Manager) BootstrapProvide(ctx context.Context, name, dataDir string) (*sdk.BootstrapCommand, error) {
	inst := m.instance(name)
	if inst == nil {
		return nil, fmt.Errorf("plugin %s is not running", name)
	}
	m.mu.Lock()
	in := m.lastInput
	m.mu.Unlock()
	if in == nil {
		return nil, fmt.Errorf("plugin %s: bootstrap provide requested before Configure", name)
	}
	hctx, cancel := m.hookCtx(ctx)
	defer cancel()
	server := inst.server(*in)
	server.PGData = dataDir
	c, err := inst.rpc.BootstrapProvide(hctx, sdk.BootstrapProvideRequest{Env: inst.env, Server: server})
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", name, err)
	}
	if c == nil || len(c.Argv) == 0 || c.Argv[0] == "" {
		return nil, fmt.Errorf("plugin %s wanted to provide the first boot but returned no command", name)
	}
	return c, nil
}

// PushJobResults sends plugin name the last results of its jobs (through
// its Health hook, which keeps them for later probes).
func (m *Manager) PushJobResults(ctx context.Context, name string, jobs map[string]sdk.JobResult) error {
	inst := m.instance(name)
	if inst == nil || inst.exited.Load() {
		return nil
	}
	hctx, cancel := m.hookCtx(ctx)
	defer cancel()
	if _, err := inst.rpc.HealthWithJobs(hctx, sdk.HealthRequest{Jobs: jobs}); err != nil {
		return fmt.Errorf("plugin %s: %w", name, err)
	}
	return nil
}

// instance returns the running plugin called name, or nil.
func (m *Manager) instance(name string) *instance {
	for _, inst := range m.instances {
		if inst.name == name {
			return inst
		}
	}
	return nil
}

// modeProvider returns the plugin that provides a run mode, or nil.
func (m *Manager) modeProvider() *instance {
	for _, inst := range m.instances {
		if inst.desc.ProvidesMode != "" {
			return inst
		}
	}
	return nil
}

// Health asks every plugin for its health, concurrently. A plugin that
// exited or does not answer is unhealthy.
func (m *Manager) Health(ctx context.Context) []sdk.HealthResult {
	out := make([]sdk.HealthResult, len(m.instances))
	var wg sync.WaitGroup
	for i, inst := range m.instances {
		wg.Go(func() {
			if inst.exited.Load() {
				out[i] = sdk.HealthResult{Plugin: inst.name, Message: "plugin process exited"}
				return
			}
			hctx, cancel := m.hookCtx(ctx)
			defer cancel()
			h, err := inst.rpc.Health(hctx)
			if err != nil {
				out[i] = sdk.HealthResult{Plugin: inst.name, Message: err.Error()}
				return
			}
			out[i] = sdk.HealthResult{Plugin: inst.name, Healthy: h.Healthy, Degraded: h.Degraded, Message: h.Message, Details: h.Details}
		})
	}
	wg.Wait()
	return out
}

// ModeCommand returns the command of the plugin that provides a run mode,
// or nil when none does. It uses the input of the last Configure call;
// merged is the configuration the host would render in direct mode, to
// which ModeCommand adds the sections other plugins contributed to the
// provider (sections: Contribution.Sections of that Configure call).
func (m *Manager) ModeCommand(ctx context.Context, merged sdk.MergedConfig, sections []Section) (*Command, error) {
	var provider *instance
	for _, inst := range m.instances {
		if inst.desc.ProvidesMode == "" {
			continue
		}
		if provider != nil {
			return nil, fmt.Errorf("plugins %s and %s both provide a run mode", provider.name, inst.name)
		}
		provider = inst
	}
	if provider == nil {
		return nil, nil
	}
	m.mu.Lock()
	in := m.lastInput
	m.mu.Unlock()
	if in == nil {
		return nil, fmt.Errorf("plugin %s: mode command requested before Configure", provider.name)
	}
	hctx, cancel := m.hookCtx(ctx)
	defer cancel()
	merged.Sections = nil
	for _, s := range sections {
		if s.Target == provider.name {
			merged.Sections = append(merged.Sections, s.Section)
		}
	}
	c, err := provider.rpc.ModeCommand(hctx, sdk.ModeCommandRequest{Env: provider.env, Server: provider.server(*in), Merged: merged})
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", provider.name, err)
	}
	if c == nil || len(c.Argv) == 0 || c.Argv[0] == "" {
		return nil, fmt.Errorf("plugin %s provides mode %q but returned no command", provider.name, provider.desc.ProvidesMode)
	}
	sig, err := parseSignal(c.StopSignal)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", provider.name, err)
	}
	cmd := &Command{
		Plugin:     provider.name,
		Mode:       provider.desc.ProvidesMode,
		Argv:       c.Argv,
		Dir:        c.Dir,
		StopSignal: sig,

		OwnsBootstrap: c.OwnsBootstrap,
	}
	if cmd.Files, err = pluginFiles(provider.name, in.FilesDir, c.Files); err != nil {
		return nil, fmt.Errorf("plugin %s: mode command: %w", provider.name, err)
	}
	for _, k := range sortedKeys(c.Env) {
		cmd.Env = append(cmd.Env, k+"="+c.Env[k])
	}
	return cmd, nil
}

// parseSignal maps "SIGTERM"/"TERM" (any case) to a signal; empty means
// SIGTERM.
func parseSignal(name string) (syscall.Signal, error) {
	switch strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG") {
	case "", "TERM":
		return syscall.SIGTERM, nil
	case "INT":
		return syscall.SIGINT, nil
	case "QUIT":
		return syscall.SIGQUIT, nil
	case "HUP":
		return syscall.SIGHUP, nil
	case "USR1":
		return syscall.SIGUSR1, nil
	case "USR2":
		return syscall.SIGUSR2, nil
	case "KILL":
		return syscall.SIGKILL, nil
	}
	return 0, fmt.Errorf("stop signal %q is not one of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGKILL", name)
}
