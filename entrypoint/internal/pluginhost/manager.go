package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// Description is a started plugin as the host knows it.
type Description struct {
	sdk.Description
	Binary          string        // path of the verified binary
	Pid             int           // process id, also its process group id
	ProtocolVersion int           // negotiated plugin protocol version
	StartDuration   time.Duration // process start + handshake + connection
	CrashPolicy     CrashPolicy
}

// CrashEvent reports a plugin that exited while it should have been running.
type CrashEvent struct {
	Plugin   string
	Pid      int
	ExitCode int    // -1 when killed by a signal
	Signal   string // the signal, when killed by one
	Err      error  // how it ended, e.g. "exit status 3"
	Output   []string
	Policy   CrashPolicy // what the entrypoint must do (see CrashPolicy)
	Time     time.Time
}

// Manager owns the started plugins. Its methods are safe for concurrent use;
// all of them work (doing nothing) when no plugin is enabled, and Stop also
// on a nil *Manager.
type Manager struct {
	opts      Options
	instances []*instance // in hook order (dependencyOrder: by "after", then name)
	// orderProblems: a cycle in the plugins' "after" declarations.
	orderProblems []Problem
	crashed       chan CrashEvent
	stopOnce      sync.Once

	mu        sync.Mutex
	lastInput *ConfigureInput // set by Configure, used by ModeCommand
}

// instance is one running plugin.
type instance struct {
	name     string
	binary   string
	log      *zap.Logger
	out      *tail
	client   *plugin.Client
	rpc      *sdk.Client
	proc     *process
	desc     sdk.Description
	env      map[string]string // declared subset of Options.Env
	policy   CrashPolicy
	problems []Problem // bad crash policy values
	version  int
	addr     net.Addr
	startDur time.Duration

	gate      startGate   // fork vs. abort of the start
	socketDir string      // go-plugin's socket directory for this plugin
	running   atomic.Bool // handshake done; exits from now on are crashes
	stopping  atomic.Bool // Stop (or a failed Start) is ending it
	exited    atomic.Bool
}

// Start verifies and starts every enabled plugin, performs the handshake and
// calls Describe. All problems found before starting anything (bad
// <NAME>_ENABLE values, enabled plugins whose binary is absent, a missing
// checksum list, missing entries or mismatches) are reported together. If any
// plugin fails to start, the ones already started are stopped and the error
// names every failure.
func Start(ctx context.Context, opts Options) (*Manager, error) {
	opts = opts.withDefaults()
	names, err := Enabled(opts.Dir, opts.Env)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, crashed: make(chan CrashEvent, len(names))}
	if len(names) == 0 {
		return m, nil
	}

	var errs []error
	for _, name := range names {
		if fi, err := os.Stat(BinaryPath(opts.Dir, name)); err != nil || fi.IsDir() {
			errs = append(errs, fmt.Errorf("plugin %s is enabled (%s) but %s is not in the plugin directory %s (PGDOCK_PLUGIN_DIR)",
				name, envName(name, "ENABLE")+"="+opts.Env[envName(name, "ENABLE")], BinaryPrefix+name, opts.Dir))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	exes, err := verifyAll(opts, names)
	if err != nil {
		return nil, err
	}
	// Each plugin's open binary is closed by start (after the fork); these
	// are the ones never started.
	defer func() {
		for _, f := range exes {
			if f != nil {
				f.Close()
			}
		}
	}()
	if len(opts.SocketDir) > MaxSocketDirLen {
		return nil, fmt.Errorf("plugin socket directory %s is longer than %d characters, too long for unix socket paths (choose a shorter PGDOCK_STATE_DIR)", opts.SocketDir, MaxSocketDirLen)
	}
	if opts.SocketDir != "" {
		if err := os.MkdirAll(opts.SocketDir, 0o750); err != nil {
			return nil, fmt.Errorf("plugin socket directory: %w", err)
		}
	}
	if opts.afterVerify != nil {
		opts.afterVerify()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("plugins not started: %w", err)
	}

	m.instances = make([]*instance, len(names))
	errs = make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		exe := exes[i]
		exes[i] = nil
		wg.Go(func() {
			m.instances[i], errs[i] = m.start(ctx, name, exe)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		m.instances = compact(m.instances)
		m.Stop()
		return nil, err
	}
	order, problems := dependencyOrder(m.described())
	ordered := make([]*instance, len(order))
	for i, j := range order {
		ordered[i] = m.instances[j]
	}
	m.instances, m.orderProblems = ordered, problems
	return m, nil
}

// verifyAll checks the plugin directory and SHA256SUMS and opens and
// verifies the binary of every plugin in names, reporting every problem. The
// open binaries (in the order of names) are what must be started.
func verifyAll(opts Options, names []string) ([]*os.File, error) {
	if err := checkProcFD(); err != nil {
		return nil, err
	}
	dir, err := openPluginDir(opts.Dir, opts.TrustUIDs)
	if err != nil {
		return nil, fmt.Errorf("plugins %s enabled: %w", strings.Join(names, ", "), err)
	}
	defer dir.Close()
	sums, err := dir.readChecksums()
	if err != nil {
		return nil, fmt.Errorf("plugins %s enabled: %w", strings.Join(names, ", "), err)
	}
	exes := make([]*os.File, len(names))
	var errs []error
	for i, name := range names {
		exes[i], err = dir.openVerified(name, sums)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %s: %w", name, err))
		}
	}
	if len(errs) > 0 {
		for _, f := range exes {
			if f != nil {
				f.Close()
			}
		}
		return nil, errors.Join(errs...)
	}
	return exes, nil
}

func compact(in []*instance) []*instance {
	var out []*instance
	for _, i := range in {
		if i != nil {
			out = append(out, i)
		}
	}
	return out
}

// start starts one plugin from its verified open binary exe (closed before
// it returns); on error nothing of it is left running. Cancelling ctx
// aborts the start at once, also during the handshake: the plugin's process
// group is killed.
func (m *Manager) start(ctx context.Context, name string, exe *os.File) (*instance, error) {
	defer exe.Close()
	binary := BinaryPath(m.opts.Dir, name)
	inst := &instance{
		name:   name,
		binary: binary,
		log:    m.opts.Logger.With(zap.String("plugin", name)),
		out:    newTail(tailLines),
	}
	inst.policy, inst.problems = crashPolicyFor(name, m.opts.Env, m.opts.CrashPolicy)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake(),
		VersionedPlugins: sdk.HostPluginSets(),
		RunnerFunc: func(_ hclog.Logger, cmd *exec.Cmd, socketDir string) (runner.Runner, error) {
			inst.socketDir = socketDir
			// cmd carries go-plugin's handshake variables only (SkipHostEnv).
			env := append(startEnv(name, m.opts.LogLevel, m.opts.Env), cmd.Env...)
			inst.proc = newProcess(binary, exe, env, m.exited(inst))
			inst.proc.reaper = m.opts.Reaper
			return &abortable{process: inst.proc, inst: inst}, nil
		},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           newHCLogZap(inst.log, filepath.Base(binary)),
		StartTimeout:     m.opts.StartTimeout,
		Stderr:           &lineWriter{emit: func(l string) { inst.out.add(readable(l)) }},
		SyncStdout:       &lineWriter{emit: inst.outputLogger("stdout", zap.InfoLevel)},
		SyncStderr:       &lineWriter{emit: inst.outputLogger("stderr", zap.WarnLevel)},
		SkipHostEnv:      true,
		UnixSocketConfig: &plugin.UnixSocketConfig{TempDir: m.opts.SocketDir},
	}
	inst.client = plugin.NewClient(cfg)
	fail := func(err error) (*instance, error) {
		inst.stopping.Store(true)
		inst.client.Kill()
		if inst.proc != nil {
			inst.proc.killGroup()
		}
		inst.removeSocketDir()
		return nil, fmt.Errorf("plugin %s (%s): %w", name, binary, err)
	}

	t0 := time.Now()
	rpcClient, err := inst.handshake(ctx, m.opts.StopGrace)
	if errors.Is(err, errAborted) {
		return nil, fmt.Errorf("plugin %s (%s): start aborted (%w); its process group was killed", name, binary, context.Cause(ctx))
	}
	if err != nil {
		return fail(m.handshakeError(inst, err))
	}
	inst.running.Store(true)
	raw, err := rpcClient.Dispense(sdk.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispense: %w", err))
	}
	rpc, ok := raw.(*sdk.Client)
	if !ok {
		return fail(fmt.Errorf("dispense returned %T, want *sdk.Client", raw))
	}
	inst.rpc = rpc
	inst.startDur = time.Since(t0)
	inst.version = inst.client.NegotiatedVersion()
	if rc := inst.client.ReattachConfig(); rc != nil {
		inst.addr = rc.Addr
	}

	hctx, cancel := context.WithTimeout(ctx, m.opts.HookTimeout)
	defer cancel()
	desc, err := rpc.Describe(hctx)
	if err != nil {
		return fail(err)
	}
	if desc.Name != name {
		return fail(fmt.Errorf("describes itself as %q; the binary must be named %s%s", desc.Name, BinaryPrefix, desc.Name))
	}
	for _, e := range desc.Env {
		if e.Name == "" {
			return fail(errors.New("declares an environment variable with an empty name"))
		}
	}
	inst.desc = desc
	inst.env = desc.FilterEnv(m.opts.Env)
	inst.log.Info("plugin started",
		zap.String("version", desc.Version),
		zap.Int("pid", inst.proc.Pid()),
		zap.Int("protocol", inst.version),
		zap.Duration("took", inst.startDur),
		zap.String("crash_policy", string(inst.policy)))
	return inst, nil
}

// ErrHandshake wraps every failure to start a plugin and complete the
// go-plugin handshake.
var ErrHandshake = errors.New("plugin handshake failed")

// handshakeError turns go-plugin's start errors into messages that say what
// happened and what to do.
func (m *Manager) handshakeError(inst *instance, err error) error {
	// The child executes the verified descriptor: name the plugin's file.
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && strings.HasPrefix(pe.Path, procFD+"/") {
		return fmt.Errorf("%w: cannot execute %s: %w (is it a program built for this architecture?)", ErrHandshake, inst.binary, pe.Err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "plugin exited before we could connect"),
		strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		if inst.proc != nil {
			waitOutput(inst.proc, time.Second)
		}
		return fmt.Errorf("%w: the plugin exited before the handshake; its last output: %s", ErrHandshake, outputText(inst.out.snapshot()))
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		first := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "), "\n", 2)[0])
		return fmt.Errorf("%w: the plugin wrote %q to stdout before the go-plugin handshake (a plugin must print nothing to stdout before sdk.Serve)", ErrHandshake, first)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%w: no handshake within %s (start timeout); the plugin was killed", ErrHandshake, m.opts.StartTimeout)
	case strings.Contains(msg, "incompatible API version"):
		return fmt.Errorf("%w: the plugin speaks no pgdock plugin protocol version this entrypoint supports (%v); rebuild it against a compatible plugins/sdk (%v)", ErrHandshake, sdk.SupportedVersions(), err)
	}
	return fmt.Errorf("%w: %w", ErrHandshake, err)
}

func outputText(lines []string) string {
	if len(lines) == 0 {
		return "(none)"
	}
	return strings.Join(lines, " | ")
}

// waitOutput waits (bounded) until the plugin's stderr reached EOF, so its
// last lines are in the tail.
func waitOutput(p *process, d time.Duration) {
	select {
	case <-p.stderr.eof:
	case <-time.After(d):
	}
}

// outputLogger logs lines the plugin wrote to os.Stdout/os.Stderr after the
// handshake (forwarded by go-plugin's stdio stream).
func (inst *instance) outputLogger(stream string, level zapcore.Level) func(string) {
	return func(line string) {
		inst.out.add(line)
		if ce := inst.log.Check(level, line); ce != nil {
			ce.Write(zap.String("stream", stream))
		}
	}
}

// exited returns the process's exit callback: an exit while the plugin
// should be running is a crash, reported on Crashed.
func (m *Manager) exited(inst *instance) func(*process) {
	return func(p *process) {
		inst.exited.Store(true)
		if !inst.running.Load() || inst.stopping.Load() {
			inst.log.Debug("plugin process exited", zap.Int("pid", p.Pid()), zap.NamedError("exit", p.exitError()))
			return
		}
		waitOutput(p, 2*time.Second)
		code, sig := p.exitCode()
		ev := CrashEvent{
			Plugin:   inst.name,
			Pid:      p.Pid(),
			ExitCode: code,
			Signal:   sig,
			Err:      p.exitError(),
			Output:   inst.out.snapshot(),
			Policy:   inst.policy,
			Time:     time.Now(),
		}
		if ev.Err == nil {
			ev.Err = errors.New("exit status 0")
		}
		inst.log.Error("plugin exited unexpectedly",
			zap.Int("pid", ev.Pid),
			zap.String("exit", ev.Err.Error()),
			zap.String("crash_policy", string(ev.Policy)),
			zap.Strings("last_output", ev.Output))
		select {
		case m.crashed <- ev:
		default: // one event per plugin and the buffer holds one per plugin
		}
	}
}

// Crashed delivers one CrashEvent per plugin that exits unexpectedly. The
// channel is never closed.
func (m *Manager) Crashed() <-chan CrashEvent { return m.crashed }

// Descriptions returns the started plugins, in hook order.
func (m *Manager) Descriptions() []Description {
	var out []Description
	for _, inst := range m.instances {
		out = append(out, Description{
			Description:     inst.desc,
			Binary:          inst.binary,
			Pid:             inst.proc.Pid(),
			ProtocolVersion: inst.version,
			StartDuration:   inst.startDur,
			CrashPolicy:     inst.policy,
		})
	}
	return out
}

// StateEntries returns the reattach data for the state file. A crashed
// plugin keeps its entry, so the healthcheck reports it.
func (m *Manager) StateEntries() []state.Plugin {
	var out []state.Plugin
	for _, inst := range m.instances {
		e := state.Plugin{Name: inst.name, Version: inst.desc.Version}
		e.Reattach.Protocol = string(plugin.ProtocolGRPC)
		e.Reattach.ProtocolVersion = inst.version
		e.Reattach.Pid = inst.proc.Pid()
		if inst.addr != nil {
			e.Reattach.Network = inst.addr.Network()
			e.Reattach.Address = inst.addr.String()
		}
		out = append(out, e)
	}
	return out
}

// Stop ends every plugin: go-plugin's graceful shutdown, bounded by
// StopGrace, then SIGKILL to the plugin's whole process group. It returns
// once every plugin process has been reaped. Call it after PostgreSQL
// stopped, and defer it on every exit path; it is idempotent and safe on a
// nil Manager.
func (m *Manager) Stop() {
	if m == nil {
		return
	}
	m.stopOnce.Do(func() {
		var wg sync.WaitGroup
		for _, inst := range m.instances {
			wg.Go(func() { inst.stop(m.opts.StopGrace) })
		}
		wg.Wait()
	})
}

func (inst *instance) stop(grace time.Duration) {
	inst.stopping.Store(true)
	// go-plugin's Kill asks the plugin to shut down and waits for it; a
	// plugin that does not answer is killed when the grace period ends.
	timer := time.AfterFunc(grace, inst.proc.killGroup)
	inst.client.Kill()
	timer.Stop()
	inst.proc.killGroup()
	select {
	case <-inst.proc.Done():
		inst.log.Debug("plugin stopped")
	case <-time.After(5 * time.Second):
		inst.log.Error("plugin process not reaped 5s after SIGKILL", zap.Int("pid", inst.proc.Pid()))
	}
}
