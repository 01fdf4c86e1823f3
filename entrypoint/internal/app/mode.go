package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/cluster"
	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
	"github.com/pgdock/pgdock/plugins/sdk"
)

// Mode status polling: every 100 ms until the first ready answer, then
// every second.
const (
	modePollStarting = 100 * time.Millisecond
	modePollRunning  = time.Second
)

// modeRun is the state of a run whose supervised child is a mode
// provider's command (e.g. Patroni) instead of postgres.
type modeRun struct {
	cmd    *pluginhost.Command
	child  *postmaster.Process
	hooks  *hooksServer
	postMu sync.Mutex // one post-bootstrap at a time
	// bootstrapped is closed once the first-boot steps are done: at once
	// unless the provider owns this first boot, else when its
	// post-bootstrap callback succeeded, or when the node turns out to be
	// a replica (no callback comes there). Readiness (Started hooks, jobs)
	// waits for it, so plugins' Bootstrap hooks run before Started.
	bootstrapped chan struct{}
	bootOnce     sync.Once
	// provider is the bootstrap provider (a plugin that asked to provide
	// this first boot, e.g. a pgbackrest restore) when the mode provider
	// owns bootstrap: the host runs nothing itself, the provider's method
	// reached the mode provider as a contributed section, and the
	// post-bootstrap callback of this first boot treats the cluster as
	// provided (no POSTGRES_DB, no init scripts). providedDone: that
	// callback succeeded (guarded by postMu).
	provider     string
	providedDone bool
}

func (mr *modeRun) markBootstrapped() { mr.bootOnce.Do(func() { close(mr.bootstrapped) }) }

// runMode is the lifecycle when an enabled plugin provides the run mode:
// configure, the first boot unless the provider owns it, then the mode
// child under supervision, readiness and role from ModeStatus.
func (s *server) runMode(ctx context.Context, firstBoot bool, mode string) int {
	c := s.cfg()
	s.ctx, s.firstBoot = ctx, firstBoot
	s.state = newStateWriter(c, s.log(), mode)
	in := s.renderInput()
	if err := s.plugins.configure(ctx, &in, s.configureInput(), true); err != nil {
		s.log().Error("cannot configure the plugins", zap.Error(err))
		return ExitError
	}
	if err := s.setupJobs(); err != nil {
		s.log().Error("invalid plugin jobs", zap.Error(err))
		return ExitError
	}
	merged, err := mergedConfig(in)
	if err != nil {
		s.log().Error("cannot compute the merged configuration", zap.Error(err))
		return ExitError
	}
	cmd, err := s.plugins.m.ModeCommand(ctx, merged, s.plugins.contrib.Sections)
	if err != nil {
		s.log().Error("cannot get the mode command", zap.Error(err))
		return ExitError
	}
	if err := writePluginFiles(cmd.Files); err != nil {
		s.log().Error("cannot write the mode provider's files", zap.Error(err))
		return ExitError
	}
	mr := &modeRun{cmd: cmd, bootstrapped: make(chan struct{})}
	if !firstBoot || !cmd.OwnsBootstrap {
		mr.markBootstrapped()
	}
	switch {
	case firstBoot && !cmd.OwnsBootstrap:
		if code, ok := s.bootstrap(ctx); !ok {
			return code
		}
	case firstBoot:
		s.log().Info("the mode provider owns bootstrap: the host runs no initdb and no temporary server; the first-boot steps run when it calls back (pgdock-entrypoint hook post-bootstrap)",
			zap.String("plugin", cmd.Plugin))
		if p := s.plugins.contrib.BootstrapProvider; p != "" {
			mr.provider = p
			s.log().Info("a plugin provides the first boot through the mode provider's bootstrap method: if this node creates the cluster, it is provided (restored) instead of initialised, and its post-bootstrap callback creates no POSTGRES_DB and runs no init scripts",
				zap.String("plugin", p), zap.String("mode_plugin", cmd.Plugin))
		}
		s.writeState(phaseBootstrapping, 0)
	case cmd.OwnsBootstrap:
		// the provider writes PostgreSQL's configuration (Patroni): the
		// settings and rules reached it through the merged configuration
		s.log().Info(cluster.SkippingMessage)
	default:
		s.log().Info(cluster.SkippingMessage)
		if err := render.Apply(in); err != nil {
			s.log().Error("cannot write the managed configuration", zap.Error(err))
			return ExitError
		}
	}
	mr.hooks, err = listenHooks(ctx, filepath.Join(s.r.socketHome(), "hooks"), s.log(), func(ctx context.Context, req string, args []string) (string, error) {
		return s.handleHook(ctx, mr, req, args)
	})
	if err != nil {
		s.log().Error("cannot listen for the mode provider's callbacks", zap.Error(err))
		return ExitError
	}
	defer mr.hooks.close()
	s.state.hooksSocket = mr.hooks.path
	return s.superviseMode(ctx, mr)
}

// configureInput is what plugins' Configure and ModeCommand learn about
// the server.
func (s *server) configureInput() pluginhost.ConfigureInput {
	c := s.cfg()
	return pluginhost.ConfigureInput{
		PGData: c.PGData, Port: c.Port, SocketDir: c.SocketDir, Superuser: c.User, Database: c.DB,
		FirstBoot: s.firstBoot, FilesDir: filepath.Join(c.StateDir, "files"),
	}
}

// mergedConfig is the configuration direct mode would render from in, for
// the mode provider, less PGDATA/pg_hba.conf: a provider that writes
// PostgreSQL's configuration (Patroni) wrote that file from the last merged
// rules, so feeding it back would keep removed rules forever; in a mode the
// host configures itself the host's hba file still includes it.
func mergedConfig(in render.Input) (sdk.MergedConfig, error) {
	in.WriteHBASetting = true
	in.OmitDataHBA = true
	settings, err := render.Settings(in)
	if err != nil {
		return sdk.MergedConfig{}, err
	}
	hba, err := render.HBARules(in)
	if err != nil {
		return sdk.MergedConfig{}, err
	}
	var m sdk.MergedConfig
	for _, p := range settings {
		m.Settings = append(m.Settings, sdk.Setting{Name: p.Name, Value: p.Value})
		if p.Name == "shared_preload_libraries" {
			for _, l := range strings.Split(p.Value, ",") {
				if l = strings.TrimSpace(l); l != "" {
					m.PreloadLibraries = append(m.PreloadLibraries, l)
				}
			}
		}
	}
	m.HBARules = hba
	return m, nil
}

// startModeChild starts the provider's command through the reaper in its
// own process group, with the hooks socket in its environment and
// Pdeathsig=SIGKILL (it dies with the entrypoint even when the entrypoint
// is SIGKILLed). Pdeathsig fires when the forking *thread* ends, so the
// goroutine that forks stays locked to its OS thread until the child has
// been reaped, as pluginhost does for plugins.
func (s *server) startModeChild(mr *modeRun) error {
	x := exec.Command(mr.cmd.Argv[0], mr.cmd.Argv[1:]...)
	x.Env = append(append([]string(nil), mr.cmd.Env...), EnvHooksSocket+"="+mr.hooks.path)
	x.Dir = mr.cmd.Dir
	x.Stdout, x.Stderr = s.r.o.Stdout, s.r.o.Stderr
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	type started struct {
		child *reaper.Child
		err   error
	}
	ch := make(chan started, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		child, err := s.r.reaper.Start(x) // forks on this locked thread
		ch <- started{child, err}
		if err == nil {
			<-child.Done()
		}
	}()
	st := <-ch
	if st.err != nil {
		return fmt.Errorf("start the mode command of plugin %s: %w", mr.cmd.Plugin, st.err)
	}
	mr.child = postmaster.Adopt(st.child, s.cfg().PGData)
	return nil
}

// stopLeftPostmaster stops, inside budget, a postmaster of PGDATA that is
// still running once the mode child is gone: Patroni starts PostgreSQL in a
// session of its own, which the sweep of the child's process group does not
// reach. It reports false when one was left and did not stop.
func (s *server) stopLeftPostmaster(budget time.Duration) bool {
	res := postmaster.StopOrphan(s.cfg().PGData, budget, func(m postmaster.Mode, pid int) {
		s.log().Warn("the mode child left PostgreSQL running; stopping it", zap.Int("pid", pid), zap.String("mode", m.String()))
	})
	switch {
	case res.PID == 0:
		return true
	case !res.Gone:
		s.log().Error("PostgreSQL left by the mode child did not stop", zap.Int("pid", res.PID), zap.Duration("took", res.Took.Round(time.Millisecond)))
		return false
	}
	s.log().Info("PostgreSQL left by the mode child stopped", zap.Int("pid", res.PID), zap.String("mode", res.Final.String()), zap.Duration("took", res.Took.Round(time.Millisecond)))
	return true
}

// superviseMode runs the mode child until it exits or a stop ends it.
func (s *server) superviseMode(ctx context.Context, mr *modeRun) int {
	start := time.Now()
	if err := s.startModeChild(mr); err != nil {
		s.log().Error("cannot start the mode child", zap.Error(err))
		s.writeState(phaseStopped, 0)
		return ExitError
	}
	child := mr.child
	s.state.setMode(child.PID(), "")
	s.writeState(phaseStarting, 0)
	s.log().Info("starting the mode child", zap.String("plugin", mr.cmd.Plugin), zap.String("mode", s.state.mode),
		zap.Int("pid", child.PID()), zap.String("command", mr.cmd.Argv[0]))

	pctx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	statuses := make(chan sdk.ModeStatus, 1)
	go s.pollModeStatus(pctx, statuses)

	started := false
	role := sdk.RoleUnspecified
	pmPID := 0
	var last sdk.ModeStatus
	bootstrapped := mr.bootstrapped
	becomeReady := func(st sdk.ModeStatus) {
		started, role, pmPID = true, st.Role, st.PostmasterPID
		s.state.setMode(child.PID(), roleName(role))
		s.writeState(phaseRunning, pmPID)
		s.log().Info("PostgreSQL is ready", since(start), zap.String("role", role.String()), zap.Int("postmaster_pid", pmPID))
		s.plugins.started(ctx, s.conn(), role)
		s.startJobs(role)
	}
	for {
		select {
		case <-bootstrapped:
			bootstrapped = nil
			if !started && last.Ready {
				becomeReady(last)
			}
		case st := <-statuses:
			last = st
			if !started {
				if bootstrapped != nil && s.bootstrapDoneElsewhere(mr, st) {
					mr.markBootstrapped()
					bootstrapped = nil
				}
				if !st.Ready || bootstrapped != nil {
					if st.PostmasterPID != pmPID {
						pmPID = st.PostmasterPID
						s.writeState(phaseStarting, pmPID)
					}
					continue
				}
				becomeReady(st)
				continue
			}
			if st.Role != role {
				prev := role
				role = st.Role
				s.state.setMode(child.PID(), roleName(role))
				s.writeState(phaseRunning, st.PostmasterPID)
				s.log().Info("role changed", zap.String("role", role.String()), zap.String("previous", prev.String()))
				s.plugins.roleChanged(ctx, s.conn(), role, prev)
				s.jobs.SetRole(role)
			}
			if st.PostmasterPID != pmPID {
				pmPID = st.PostmasterPID
				s.writeState(phaseRunning, pmPID)
			}
		case <-child.Done():
			child.KillGroup(syscall.SIGKILL) // whatever the mode child left behind
			s.stopLeftPostmaster(s.cfg().Timeout * 3 / 4)
			s.jobs.Stop(s.cfg().Timeout / 4)
			s.state.setMode(0, "")
			s.writeState(phaseStopped, 0)
			code := child.ExitCode()
			s.log().Error("the mode child exited unexpectedly", zap.String("plugin", mr.cmd.Plugin), zap.String("status", child.Describe()))
			if code == 0 {
				return ExitError
			}
			return code
		case ev := <-s.plugins.crashed():
			if ev.Policy == pluginhost.CrashContinue {
				s.log().Error("plugin crashed; the server keeps running without it (crash policy continue)", zap.String("plugin", ev.Plugin))
				continue
			}
			s.log().Error("plugin crashed; stopping (crash policy fail)", zap.String("plugin", ev.Plugin))
			s.stopMode(mr, pmPID, false, "plugin "+ev.Plugin+" crashed")
			return ExitError
		case sig := <-s.sigs:
			switch {
			case sig == syscall.SIGHUP:
				s.reloadMode(mr)
			case isStop(sig):
				return s.stopMode(mr, pmPID, sig == syscall.SIGQUIT, "signal "+sig.String())
			}
		}
	}
}

// bootstrapDoneElsewhere reports, on a first boot the provider owns, that
// no post-bootstrap callback will come to this node: it is a replica (its
// data came from the primary), or PGDATA already records the first-boot
// steps (copied with the data, or done by an earlier run). When a
// bootstrap provider's method may create the cluster (a restore), the
// record in PGDATA does not count: it came with the restored data, from
// the backup's source, and the callback for this cluster is still to come.
func (s *server) bootstrapDoneElsewhere(mr *modeRun, st sdk.ModeStatus) bool {
	if st.Ready && st.Role == sdk.RoleReplica {
		return true
	}
	if mr.provider != "" {
		return false
	}
	_, err := os.Stat(filepath.Join(s.cfg().PGData, cluster.PostBootstrapName))
	return err == nil
}

func roleName(r sdk.Role) string {
	if r == sdk.RoleUnspecified {
		return ""
	}
	return r.String()
}

// pollModeStatus asks the provider for its status until ctx ends. A
// provider that does not answer ModeStatus is followed through
// postmaster.pid instead (logged once).
func (s *server) pollModeStatus(ctx context.Context, out chan<- sdk.ModeStatus) {
	interval := modePollStarting
	warned := false
	for {
		st, err := s.plugins.m.ModeStatus(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !warned {
				s.log().Warn("the mode provider's status is unavailable; following postmaster.pid instead", zap.Error(err))
				warned = true
			}
			st = pidfileStatus(s.cfg().PGData)
		}
		select {
		case out <- st:
		case <-ctx.Done():
			return
		}
		if st.Ready {
			interval = modePollRunning
		}
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// pidfileStatus is a mode status read from postmaster.pid.
func pidfileStatus(pgdata string) sdk.ModeStatus {
	info, err := pidfile.Read(pgdata)
	if err != nil || !info.Ready() || !alivePID(info.PID) {
		return sdk.ModeStatus{Role: sdk.RoleNone}
	}
	return sdk.ModeStatus{Ready: true, PostmasterPID: info.PID, Role: directRole(pgdata)}
}

func alivePID(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// reloadMode regenerates the plugins' files and, when the cluster exists
// and the provider does not write PostgreSQL's configuration itself, the
// managed files; then it sends SIGHUP to the mode child (Patroni reloads
// its configuration).
func (s *server) reloadMode(mr *modeRun) {
	if mr.cmd.OwnsBootstrap {
		in := s.renderInput()
		if err := s.plugins.configure(s.ctx, &in, s.configureInput(), true); err != nil {
			s.log().Error("reload: cannot configure the plugins; the mode child keeps the previous configuration", zap.Error(err))
			return
		}
	} else if ok, _ := cluster.IsInitialised(s.cfg().PGData); ok {
		if err := s.configure(); err != nil {
			s.log().Error("reload: cannot write the managed configuration; the mode child keeps the previous one", zap.Error(err))
			return
		}
	}
	if err := mr.child.Signal(syscall.SIGHUP); err != nil {
		s.log().Error("reload: cannot signal the mode child", zap.Error(err))
		return
	}
	s.log().Info("configuration reloaded (SIGHUP sent to the mode child)")
}

// stopMode stops the mode child: its stop signal, SIGKILL at 75 % of the
// budget; PostgreSQL is never signalled while the child lives. now sends
// the SIGKILL at once (SIGQUIT, or a second stop request).
func (s *server) stopMode(mr *modeRun, pmPID int, now bool, reason string) int {
	c := s.cfg()
	mr.hooks.cancel() // a running post-bootstrap stops with the server
	s.writeState(phaseStopping, pmPID)
	s.log().Info("stopping the mode child", zap.String("reason", reason), zap.String("signal", mr.cmd.StopSignal.String()), zap.Duration("budget", c.Timeout))
	began := time.Now()
	s.stopHooksAndJobs(c.Timeout / 4)
	budget := c.Timeout - time.Since(began)
	escalate, release := s.escalations("another stop request: killing the mode child")
	defer release()
	if now {
		escalate <- struct{}{}
	}
	res := mr.child.StopChild(mr.cmd.StopSignal, budget, escalate, func() {
		s.log().Warn("the mode child did not stop in time; SIGKILL", zap.Int("pid", mr.child.PID()))
	})
	pmStopped := s.stopLeftPostmaster(c.Timeout - time.Since(began))
	s.state.setMode(0, "")
	s.writeState(phaseStopped, 0)
	code := mr.child.ExitCode()
	fields := []zap.Field{zap.Duration("took", res.Took.Round(time.Millisecond)), zap.String("status", mr.child.Describe())}
	if res.Killed || code != 0 || !pmStopped {
		s.log().Error("the mode child stopped, but not cleanly", fields...)
		return ExitError
	}
	s.log().Info("the mode child stopped", fields...)
	return ExitOK
}

// handleHook answers a request on the hooks socket.
func (s *server) handleHook(ctx context.Context, mr *modeRun, req string, args []string) (string, error) {
	switch req {
	case hookPostBootstrap:
		if mr == nil || !mr.cmd.OwnsBootstrap {
			return "", errors.New("the mode provider does not own bootstrap: the host ran the first boot itself")
		}
		mr.postMu.Lock()
		defer mr.postMu.Unlock()
		c := s.cfg()
		o := s.clusterOptions()
		o.ProvidedByMode = mr.provider != "" && !mr.providedDone
		ran, err := cluster.PostBootstrap(ctx, o, cluster.Conn{SocketDir: c.SocketDir, Port: c.Port, User: c.User, DB: c.DB})
		if err != nil {
			return "", err
		}
		if o.ProvidedByMode {
			s.provided = "through the bootstrap method of the " + mr.cmd.Plugin + " mode"
			s.recordProvided(mr.provider)
			mr.providedDone = true
		}
		mr.markBootstrapped()
		if !ran {
			return "already done for this cluster", nil
		}
		return "first-boot steps done", nil
	case hookRunJob:
		return s.runJobNow(ctx, args)
	}
	return "", fmt.Errorf("unknown request %q; known: %s, %s <plugin> <job>", req, hookPostBootstrap, hookRunJob)
}

// runJobNow is the on-demand run of a plugin's job (hook run-job).
func (s *server) runJobNow(ctx context.Context, args []string) (string, error) {
	if len(args) != 2 {
		return "", errors.New("run-job needs <plugin> <job>")
	}
	if s.jobs == nil {
		return "", errors.New("no jobs are scheduled")
	}
	res, err := s.jobs.RunNow(ctx, args[0], args[1])
	if err != nil {
		return "", err
	}
	if res.ExitCode != 0 || res.Error != "" {
		return "", fmt.Errorf("job %s of plugin %s failed: %s", args[1], args[0], res.Error)
	}
	return fmt.Sprintf("job %s of plugin %s done in %s", args[1], args[0], res.Finished.Sub(res.Started).Round(time.Millisecond)), nil
}

// modeOwnsBootstrap asks the mode provider, if any, whether it creates the
// cluster itself; it returns the provider's name when it does.
func (s *server) modeOwnsBootstrap(ctx context.Context) (string, error) {
	if s.plugins.modeName() == "" {
		return "", nil
	}
	in := s.renderInput()
	if err := s.plugins.configure(ctx, &in, s.configureInput(), false); err != nil {
		return "", err
	}
	merged, err := mergedConfig(in)
	if err != nil {
		return "", err
	}
	cmd, err := s.plugins.m.ModeCommand(ctx, merged, s.plugins.contrib.Sections)
	if err != nil {
		return "", err
	}
	if cmd.OwnsBootstrap {
		return cmd.Plugin, nil
	}
	return "", nil
}
