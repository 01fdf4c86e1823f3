package app

import (
	"context"
	"os"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/cluster"
	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/jobs"
	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// server runs the direct mode: PostgreSQL as the supervised child.
type server struct {
	r          *runner
	sigs       <-chan os.Signal
	tls        tlsFiles
	serverArgs []string
	state      *stateWriter
	plugins    *plugins
	ctx        context.Context
	firstBoot  bool
	jobs       *jobs.Scheduler // nil when no plugin declared a job
	provided   string          // the bootstrap provider's marker text
}

func (s *server) cfg() config.Config { return s.r.cfg }
func (s *server) log() *zap.Logger   { return s.r.log }

// renderInput assembles the managed configuration.
func (s *server) renderInput() render.Input {
	c := s.cfg()
	in := render.Input{
		PGData: c.PGData, Port: c.Port, SocketDirs: c.SocketDirs, ConfigDir: c.ConfigDir,
		TLSCert: s.tls.cert, TLSKey: s.tls.key, TLSCA: s.tls.ca,
	}
	for _, st := range c.Settings {
		p := render.Param{Name: st.Name, Value: st.Value, Source: st.Source}
		if st.Default {
			p.Source = "pgdock default"
			in.Defaults = append(in.Defaults, p)
			continue
		}
		in.Env = append(in.Env, p)
	}
	for _, h := range c.HBARules {
		in.EnvHBA = append(in.EnvHBA, render.Rule{Line: h.Line, Source: h.Source})
	}
	return in
}

// configure renders the managed files, with the plugins' contributions.
func (s *server) configure() error {
	in := s.renderInput()
	if err := s.plugins.configure(s.ctx, &in, s.configureInput(), true); err != nil {
		return err
	}
	return render.Apply(in)
}

// conn is how plugins reach the running server.
func (s *server) conn() pluginhost.Conn {
	c := s.cfg()
	return pluginhost.Conn{SocketDir: c.SocketDir, Port: c.Port, User: c.User, Database: "postgres", PGData: c.PGData}
}

func (s *server) writeState(phase state.Phase, pid int) {
	s.state.write(phase, pid, s.plugins.entries())
}

// lifecycle runs bootstrap (if needed), configure, run and stop.
func (s *server) lifecycle(ctx context.Context, firstBoot bool) int {
	c := s.cfg()
	if mode := s.plugins.modeName(); mode != "" {
		return s.runMode(ctx, firstBoot, mode)
	}
	s.ctx, s.firstBoot = ctx, firstBoot
	s.state = newStateWriter(c, s.log(), "direct")
	if firstBoot {
		if code, ok := s.bootstrap(ctx); !ok {
			return code
		}
	} else {
		s.log().Info(cluster.SkippingMessage)
		if err := s.configure(); err != nil {
			s.log().Error("cannot write the managed configuration", zap.Error(err))
			return ExitError
		}
		if code, ok := s.replaceForProvider(ctx); !ok { // a forced restore (provide.go)
			return code
		}
	}
	if err := s.setupJobs(); err != nil {
		s.log().Error("invalid plugin jobs", zap.Error(err))
		s.writeState(phaseStopped, 0)
		return ExitError
	}
	return s.run(ctx)
}

// bootstrap initialises PGDATA, honouring stop signals while it runs.
func (s *server) bootstrap(ctx context.Context) (int, bool) {
	c := s.cfg()
	if c.HostAuthMethod == "trust" {
		os.Stderr.WriteString(cluster.TrustWarning())
	}
	s.writeState(phaseBootstrapping, 0)
	if m, _ := cluster.ReadMarker(c.PGData); m != nil && m.Redoable() { // the preflight refused the others
		if err := cluster.Wipe(c.PGData, c.InitdbWaldir); err != nil {
			s.log().Error("cannot clear the failed first boot", zap.Error(err))
			return ExitError, false
		}
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan os.Signal, 1)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case sig := <-s.sigs:
				if isStop(sig) {
					s.log().Warn("stop requested during first-boot initialisation; stopping it", zap.String("signal", sig.String()))
					stopped <- sig
					cancel()
					return
				}
				s.log().Info("reload ignored during first-boot initialisation", zap.String("signal", sig.String()))
			case <-bctx.Done():
				return
			}
		}
	}()
	o := s.clusterOptions()
	provider, err := s.bootstrapProvider(bctx)
	if err == nil {
		err = s.setupJobs() // a bad schedule stops the start before initdb
	}
	if err == nil && provider != "" {
		o.Provide = func(ctx context.Context, dir string) error { return s.provideBootstrap(ctx, provider, dir) }
	}
	if err == nil {
		err = cluster.Bootstrap(bctx, o)
	}
	if err == nil && provider != "" {
		s.recordProvided(provider)
	}
	cancel()
	<-watchDone
	select {
	case sig := <-stopped:
		s.log().Error("first-boot initialisation was interrupted; PGDATA is incomplete and the next start will say so",
			zap.String("signal", sig.String()))
		s.writeState(phaseStopped, 0)
		return ExitError, false
	default:
	}
	if err != nil {
		s.log().Error("first-boot initialisation failed; PGDATA is left as it is for inspection", zap.Error(err))
		s.writeState(phaseStopped, 0)
		return ExitError, false
	}
	return ExitOK, true
}

// clusterOptions are the first boot's options (also for PostBootstrap).
func (s *server) clusterOptions() cluster.Options {
	c := s.cfg()
	return cluster.Options{
		Bin: s.r.bin, PGData: c.PGData, Waldir: c.InitdbWaldir,
		User: c.User, Password: c.Password, DB: c.DB, InitdbArgs: c.InitdbArgs,
		HostAuthMethod: c.HostAuthMethod, ExternalAccess: c.ExternalAccess,
		Port: c.Port, ServerArgs: s.serverArgs, InitDir: c.InitDir, WorkDir: s.r.workDir(),
		Env: envList(c.Env), ServerEnv: serverEnv(c.Env), Reaper: s.r.reaper,
		Log: s.log(), Stdout: s.r.o.Stdout, Stderr: s.r.o.Stderr,
		Configure: s.configure,
		OnTempServer: func(ctx context.Context, cc cluster.Conn) error {
			return s.plugins.bootstrap(ctx, pluginhost.Conn{SocketDir: cc.SocketDir, Port: cc.Port, User: cc.User, Database: "postgres", PGData: c.PGData})
		},
		StopBudget: c.Timeout,
	}
}

// run starts PostgreSQL and supervises it until it exits.
func (s *server) run(ctx context.Context) int {
	c := s.cfg()
	mode, _ := postmaster.ParseMode(c.ShutdownMode)
	start := time.Now()
	srv, err := postmaster.Start(postmaster.Options{
		Postgres: s.r.bin.Postgres, PGData: c.PGData, Args: s.serverArgs,
		Env: serverEnv(c.Env), Stdout: s.r.o.Stdout, Stderr: s.r.o.Stderr,
		Reaper: s.r.reaper,
	})
	if err != nil {
		s.log().Error("cannot start PostgreSQL", zap.Error(err))
		return ExitError
	}
	s.writeState(phaseStarting, srv.PID())
	s.log().Info("starting PostgreSQL", zap.Int("pid", srv.PID()), zap.String("pgdata", c.PGData), zap.Int("port", c.Port))

	ready := make(chan error, 1)
	rctx, cancelReady := context.WithCancel(ctx)
	defer cancelReady()
	go func() { ready <- srv.WaitReady(rctx) }()
	hooks := s.listenJobHooks(ctx)
	defer hooks.close()
	var roleTick <-chan time.Time // direct-mode role changes, only with plugins
	role := sdk.RoleUnspecified

	for {
		select {
		case err := <-ready:
			ready = nil
			if err == nil {
				if s.plugins != nil { // no plugin: nobody to tell, nothing read
					role = directRole(c.PGData)
					s.state.setMode(0, roleName(role))
				}
				s.writeState(phaseRunning, srv.PID())
				s.log().Info("PostgreSQL is ready", since(start))
				s.plugins.started(ctx, s.conn(), role)
				s.startJobs(role)
				if s.plugins != nil {
					t := time.NewTicker(modePollRunning)
					defer t.Stop()
					roleTick = t.C
				}
			}
		case <-roleTick:
			if r := directRole(c.PGData); r != role {
				prev := role
				role = r
				s.state.setMode(0, roleName(role))
				s.writeState(phaseRunning, srv.PID())
				s.log().Info("role changed", zap.String("role", role.String()), zap.String("previous", prev.String()))
				s.plugins.roleChanged(ctx, s.conn(), role, prev)
				s.jobs.SetRole(role)
			}
		case <-srv.Done():
			code := srv.ExitCode()
			srv.KillGroup(syscall.SIGKILL) // leftover backends of a dead postmaster
			s.jobs.Stop(c.Timeout / 4)
			s.writeState(phaseStopped, 0)
			if code == 0 {
				s.log().Warn("PostgreSQL exited on its own", zap.String("status", srv.Describe()))
			} else {
				s.log().Error("PostgreSQL exited unexpectedly", zap.String("status", srv.Describe()))
			}
			return code
		case ev := <-s.plugins.crashed():
			if ev.Policy == pluginhost.CrashContinue {
				s.log().Error("plugin crashed; PostgreSQL keeps running without it (crash policy continue)", zap.String("plugin", ev.Plugin))
				continue
			}
			s.log().Error("plugin crashed; stopping PostgreSQL (crash policy fail)", zap.String("plugin", ev.Plugin))
			s.stop(srv, mode, "plugin "+ev.Plugin+" crashed")
			return ExitError
		case sig := <-s.sigs:
			switch {
			case sig == syscall.SIGHUP:
				s.reload(srv)
			case isStop(sig):
				first := mode
				if sig == syscall.SIGQUIT {
					first = postmaster.Immediate
				}
				return s.stop(srv, first, "signal "+sig.String())
			}
		}
	}
}

// reload regenerates the managed files (user files may have changed) and
// forwards SIGHUP.
func (s *server) reload(srv *postmaster.Process) {
	if err := s.configure(); err != nil {
		s.log().Error("reload: cannot write the managed configuration; PostgreSQL keeps the previous one", zap.Error(err))
		return
	}
	if err := srv.Signal(syscall.SIGHUP); err != nil {
		s.log().Error("reload: cannot signal PostgreSQL", zap.Error(err))
		return
	}
	s.log().Info("configuration reloaded")
}

// stop runs the shutdown ladder; further stop signals escalate it.
// escalations turns every further stop signal, until release is called,
// into one step up the stop ladder on the returned channel (logged with
// msg). The channel is buffered so a burst of signals is not lost.
func (s *server) escalations(msg string) (escalate chan struct{}, release func()) {
	escalate = make(chan struct{}, 4)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sg := <-s.sigs:
				if isStop(sg) {
					s.log().Warn(msg, zap.String("signal", sg.String()))
					escalate <- struct{}{}
				}
			case <-done:
				return
			}
		}
	}()
	return escalate, func() { close(done) }
}

func (s *server) stop(srv *postmaster.Process, first postmaster.Mode, reason string) int {
	c := s.cfg()
	s.writeState(phaseStopping, srv.PID())
	s.log().Info("stopping PostgreSQL", zap.String("reason", reason), zap.String("mode", first.String()), zap.Duration("budget", c.Timeout))
	// Plugins' stopping hooks get at most a quarter of the budget; the
	// shutdown ladder gets the rest, so the whole stop fits in TIMEOUT.
	began := time.Now()
	s.stopHooksAndJobs(c.Timeout / 4)
	budget := c.Timeout - time.Since(began)
	escalate, release := s.escalations("another stop request: escalating")
	defer release()
	res := srv.Stop(first, budget, escalate, func(m postmaster.Mode) {
		if m != first {
			s.log().Warn("escalating shutdown", zap.String("mode", m.String()))
		}
	})
	s.writeState(phaseStopped, 0)
	code := srv.ExitCode()
	fields := []zap.Field{zap.String("mode", res.Final.String()), zap.Duration("took", res.Took.Round(time.Millisecond)), zap.String("status", srv.Describe())}
	if res.Escalated || code != 0 {
		s.log().Error("PostgreSQL stopped, but not cleanly", fields...)
		return ExitError
	}
	s.log().Info("PostgreSQL stopped", fields...)
	return ExitOK
}

// serverEnv is the environment of PostgreSQL and its children (backends,
// archive_command, COPY … TO PROGRAM): the container's, without pgdock's
// secrets (POSTGRES_PASSWORD, also when it came from a _FILE, replication
// and plugin passwords, anything config.IsSecret names). Init scripts keep
// them, as the official image promises.
func serverEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, kv := range envList(m) {
		name, _, _ := strings.Cut(kv, "=")
		if !config.IsSecret(name) {
			out = append(out, kv)
		}
	}
	return out
}
