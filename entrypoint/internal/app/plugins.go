package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
	"github.com/pgdock/pgdock/entrypoint/internal/jobs"
	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/state"
)

// plugins wraps the plugin manager for the lifecycle; a nil *plugins (no
// plugin enabled) does nothing.
type plugins struct {
	m       *pluginhost.Manager
	log     *zap.Logger
	contrib pluginhost.Contribution
}

// startPlugins starts the enabled plugins (after privileges were dropped)
// and runs their validation together with the host's conflict checks.
func (r *runner) startPlugins(ctx context.Context, socketDir string) (*plugins, error) {
	pl, _, err := r.startPluginsWarn(ctx, socketDir, false)
	return pl, err
}

// startPluginsWarn is startPlugins; with missingAsWarning (config render)
// a required program, extension or library that is not installed does not
// fail the validation: it is returned as a warning, so the configuration
// the plugins would contribute can still be shown.
func (r *runner) startPluginsWarn(ctx context.Context, socketDir string, missingAsWarning bool) (*plugins, []string, error) {
	names, err := pluginhost.Enabled(r.cfg.PluginDir, r.cfg.Env)
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, nil
	}
	r.startReaper()
	// A stop requested while the plugins start (a handshake may take up to
	// the start timeout) ends the start at once: their process groups are
	// killed and the entrypoint exits without starting PostgreSQL.
	sigCtx, stopNotify := signal.NotifyContext(ctx, stopSignals...)
	defer stopNotify()
	m, err := pluginhost.Start(sigCtx, pluginhost.Options{
		Dir:          r.cfg.PluginDir,
		Env:          r.cfg.Env,
		SocketDir:    socketDir,
		Logger:       r.log,
		ExtensionDir: extensionDir(r.bin.Dir),
		LibDir:       libDir(r.bin.Dir),
		Reaper:       r.reaper,
		TrustUIDs:    r.trustedPluginOwners(),
	})
	if err != nil {
		if sigCtx.Err() != nil && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("stop requested while the plugins were starting; exiting without starting PostgreSQL: %w", err)
		}
		return nil, nil, err
	}
	p := &plugins{m: m, log: r.log}
	var problems, warnings []string
	for _, pr := range m.Validate(sigCtx) {
		if missingAsWarning && pr.Missing {
			warnings = append(warnings, pr.String())
			continue
		}
		problems = append(problems, pr.String())
	}
	if sigCtx.Err() != nil && ctx.Err() == nil {
		m.Stop()
		return nil, nil, errors.New("stop requested while the plugins were validating; exiting without starting PostgreSQL")
	}
	if len(problems) > 0 {
		m.Stop()
		return nil, nil, fmt.Errorf("plugin validation failed:\n  %s", strings.Join(problems, "\n  "))
	}
	return p, warnings, nil
}

// trustedPluginOwners are the uids besides root that may own the plugin
// directory, binaries and SHA256SUMS: the uid this process runs as, unless
// it is the server user, the uid privileges were dropped to (code run by a
// database superuser runs as that user: it must not be able to change what
// the entrypoint starts). So a start as root or as the server user trusts
// root only, and a start as any other uid (make up as a developer, docker
// run --user 1000) also trusts that uid.
func (r *runner) trustedPluginOwners() []int { return pluginOwners(os.Getuid(), r.o.ServerUser) }

func pluginOwners(uid int, serverUser string) []int {
	if uid == 0 {
		return nil
	}
	if id, err := privilege.Lookup(serverUser); err == nil && id.UID == uid {
		return nil
	}
	return []int{uid}
}

// extensionDir is PostgreSQL's extension directory for a Debian bin dir
// (/usr/lib/postgresql/15/bin → /usr/share/postgresql/15/extension).
func extensionDir(binDir string) string {
	major := filepath.Base(filepath.Dir(binDir))
	d := filepath.Join("/usr/share/postgresql", major, "extension")
	if _, err := os.Stat(d); err == nil {
		return d
	}
	return ""
}

// libDir is PostgreSQL's library directory for a Debian bin dir
// (/usr/lib/postgresql/15/bin → /usr/lib/postgresql/15/lib).
func libDir(binDir string) string {
	if binDir == "" {
		return ""
	}
	d := filepath.Join(filepath.Dir(binDir), "lib")
	if fi, err := os.Stat(d); err == nil && fi.IsDir() {
		return d
	}
	return ""
}

func (p *plugins) stop() {
	if p != nil {
		p.m.Stop()
	}
}

func (p *plugins) entries() []state.Plugin {
	if p == nil {
		return nil
	}
	return p.m.StateEntries()
}

func (p *plugins) crashed() <-chan pluginhost.CrashEvent {
	if p == nil {
		return nil
	}
	return p.m.Crashed()
}

// configure asks the plugins for their settings, rules and files, writes the
// files (unless writeFiles is false: config render), and adds the rest to the
// render input.
func (p *plugins) configure(ctx context.Context, in *render.Input, ci pluginhost.ConfigureInput, writeFiles bool) error {
	userPreload := ""
	var env []render.Param
	for _, e := range in.Env {
		if e.Name == "shared_preload_libraries" {
			userPreload = e.Value
			continue
		}
		env = append(env, e)
	}
	if p == nil {
		return nil
	}
	c, err := p.m.Configure(ctx, ci)
	if err != nil {
		return fmt.Errorf("plugins: configure: %w", err)
	}
	p.contrib = c
	if writeFiles {
		if err := writePluginFiles(c.Files); err != nil {
			return err
		}
	}
	for _, s := range c.Settings {
		in.Plugin = append(in.Plugin, render.Param{Name: s.Name, Value: s.Value, Source: "plugin " + s.Plugin})
	}
	for _, h := range c.HBARules {
		in.PluginHBA = append(in.PluginHBA, render.Rule{Line: h, Source: "plugins"})
	}
	if len(c.PreloadLibraries) > 0 {
		in.Env = env
		in.Preload = mergePreload(c.PreloadLibraries, userPreload)
	}
	return nil
}

// writePluginFiles writes files plugins returned (already checked by the
// manager: inside FilesDir/<plugin>, no world access), atomically.
func writePluginFiles(files []pluginhost.File) error {
	for _, f := range files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
			return fmt.Errorf("plugin %s: %w", f.Plugin, err)
		}
		if err := fsutil.WriteFileAtomic(f.Path, f.Content, f.Mode); err != nil {
			return fmt.Errorf("plugin %s: %w", f.Plugin, err)
		}
	}
	return nil
}

// mergePreload puts the plugins' libraries first, in their order, then the
// user's, without duplicates.
func mergePreload(pluginLibs []string, user string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range pluginLibs {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for _, l := range strings.Split(user, ",") {
		l = strings.TrimSpace(l)
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func (p *plugins) bootstrap(ctx context.Context, c pluginhost.Conn) error {
	if p == nil {
		return nil
	}
	return p.m.Bootstrap(ctx, c)
}

func (p *plugins) started(ctx context.Context, c pluginhost.Conn, role sdk.Role) {
	if p == nil {
		return
	}
	if err := p.m.Started(ctx, c, role); err != nil {
		p.log.Error("plugin started hook failed", zap.Error(err))
	}
}

func (p *plugins) stopping(ctx context.Context) {
	if p != nil {
		p.m.Stopping(ctx)
	}
}

// modeName is the run mode an enabled plugin provides ("" for direct).
func (p *plugins) modeName() string {
	if p == nil {
		return ""
	}
	for _, d := range p.m.Descriptions() {
		if d.ProvidesMode != "" {
			return d.ProvidesMode
		}
	}
	return ""
}

func (p *plugins) roleChanged(ctx context.Context, c pluginhost.Conn, role, previous sdk.Role) {
	if p == nil {
		return
	}
	if err := p.m.RoleChanged(ctx, c, role, previous); err != nil {
		p.log.Error("plugin role changed hook failed", zap.Error(err))
	}
}

// jobSpecs are the jobs the last configure returned.
func (p *plugins) jobSpecs() []jobs.Spec {
	if p == nil {
		return nil
	}
	var out []jobs.Spec
	for _, j := range p.contrib.Jobs {
		out = append(out, jobs.Spec{Plugin: j.Plugin, Job: j.Job})
	}
	return out
}

// pushJobResults hands a plugin its jobs' results (kept by the SDK for the
// healthcheck's probes).
func (p *plugins) pushJobResults(plugin string, results map[string]sdk.JobResult) {
	if p == nil {
		return
	}
	if err := p.m.PushJobResults(context.Background(), plugin, results); err != nil {
		p.log.Warn("cannot pass job results to the plugin", zap.String("plugin", plugin), zap.Error(err))
	}
}
