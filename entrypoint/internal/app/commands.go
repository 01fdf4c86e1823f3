package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/cluster"
	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
)

// Init is docker-ensure-initdb.sh: bootstrap PGDATA if needed, then exit
// without leaving a server running. With enforce, an initialised PGDATA is
// an error (docker-enforce-initdb.sh).
func Init(o Options, serverArgs []string, enforce bool) int {
	r, code := newRunner(o)
	if r == nil {
		return code
	}
	firstBoot, ok := r.check()
	if !ok {
		return ExitError
	}
	if !firstBoot {
		if enforce {
			r.log.Error("PostgreSQL database directory appears to contain a database; initialisation was required (--enforce)", zapPGData(r.cfg))
			return ExitError
		}
		fmt.Fprintln(o.Stderr, cluster.SkippingMessage)
		return ExitOK
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	defer r.cleanupSocketHome()
	tls, err := r.prepare()
	if err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	pl, err := r.startPlugins(context.Background(), r.pluginSocketDir())
	if err != nil {
		r.logProblems(err)
		return ExitError
	}
	defer pl.stop()
	s := &server{r: r, sigs: sigs, tls: tls, serverArgs: r.postgresArgs(serverArgs), plugins: pl, ctx: context.Background(), firstBoot: true}
	s.state = newStateWriter(r.cfg, r.log, "init")
	if owner, err := s.modeOwnsBootstrap(context.Background()); err != nil || owner != "" {
		if err == nil {
			err = fmt.Errorf("plugin %s provides the run mode and creates the cluster itself (it owns bootstrap): start the container instead of running init", owner)
		}
		r.log.Error("init", zap.Error(err))
		return ExitError
	}
	code, ok = s.bootstrap(context.Background())
	if !ok {
		return code
	}
	s.state.write(phaseStopped, 0, nil)
	return ExitOK
}

// Validate runs exactly the checks of a real start that come before it
// changes anything (the shared preflight: the environment, PostgreSQL and
// its acceptance of the settings, TLS files, the first-boot password, the
// bootstrap marker, the init script directory) and then the plugins'
// (found, verified against SHA256SUMS, their own validation). It prints
// every problem and changes nothing; exit 1 wherever a start would refuse.
func Validate(o Options) int {
	r, code := newRunner(o)
	if r == nil {
		return code
	}
	if _, ok := r.check(); !ok {
		return ExitError
	}
	if code := r.validatePlugins(context.Background()); code != ExitOK {
		return code
	}
	fmt.Fprintln(o.Stdout, "configuration is valid")
	return ExitOK
}

// Render prints what pgdock would write, without starting or changing anything.
func Render(o Options) int {
	r, code := newRunner(o)
	if r == nil {
		return code
	}
	if bin, err := pgbin.Find(); err == nil {
		r.bin = bin
	}
	// Plugins contribute settings, rules and preload libraries; they run as
	// the server's user, never as root.
	if err := r.dropForPlugins(); err != nil {
		r.log.Error("cannot step down to the server user to ask the plugins", zap.Error(err))
		return ExitError
	}
	sockDir, err := os.MkdirTemp("", "pgdock-render-")
	if err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	defer os.RemoveAll(sockDir)
	// A plugin whose program or extension is not installed still shows
	// what it would configure; the missing part is a warning here (a start
	// refuses it).
	pl, warnings, err := r.startPluginsWarn(context.Background(), sockDir, true)
	if err != nil {
		r.logProblems(err)
		return ExitError
	}
	defer pl.stop()
	for _, w := range warnings {
		r.log.Warn("a start would refuse this: " + w)
	}
	s := &server{r: r, tls: tlsFiles{cert: r.cfg.TLS.CertFile, key: r.cfg.TLS.KeyFile, ca: r.cfg.TLS.CAFile}, plugins: pl, ctx: context.Background()}
	initialised, _ := cluster.IsInitialised(r.cfg.PGData)
	s.firstBoot = !initialised
	in := s.renderInput()
	ci := pluginhost.ConfigureInput{
		PGData: r.cfg.PGData, Port: r.cfg.Port, SocketDir: r.cfg.SocketDir, Superuser: r.cfg.User, Database: r.cfg.DB,
		FirstBoot: s.firstBoot, FilesDir: filepath.Join(r.cfg.StateDir, "files"),
	}
	if err := pl.configure(s.ctx, &in, ci, false); err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	in.WriteHBASetting = true
	conf, err := render.Conf(in)
	if err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	hba, err := render.HBA(in)
	if err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	w := o.Stdout
	if len(warnings) > 0 {
		fmt.Fprintf(w, "# ===== warnings (a start would refuse these) =====\n")
		for _, x := range warnings {
			fmt.Fprintf(w, "# WARNING: %s\n", x)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "# ===== %s =====\n%s\n", filepath.Join(r.cfg.PGData, render.ConfName), conf)
	fmt.Fprintf(w, "# ===== %s =====\n%s\n", filepath.Join(r.cfg.PGData, render.HBAName), hba)
	fmt.Fprintf(w, "# ===== shared_preload_libraries =====\n%s\n", strings.Join(in.Preload, ","))
	if pl != nil {
		fmt.Fprintf(w, "\n# ===== plugin files (written at start) =====\n")
		for _, f := range pl.contrib.Files {
			fmt.Fprintf(w, "%s %04o (plugin %s)\n", f.Path, f.Mode.Perm(), f.Plugin)
		}
	}
	fmt.Fprintf(w, "\n# ===== resolved variables =====\n")
	red := config.Redacted(r.cfg)
	keys := make([]string, 0, len(red))
	for k := range red {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s=%s\n", k, red[k])
	}
	return ExitOK
}
