package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/config"
	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
	"github.com/pgdock/pgdock/entrypoint/internal/gucheck"
	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
	"github.com/pgdock/pgdock/entrypoint/internal/pgversion"
	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
	"github.com/pgdock/pgdock/entrypoint/internal/render"
)

// upgradeVar asks for an in-place major upgrade of an older PGDATA.
const upgradeVar = "PGDOCK_UPGRADE"

// checkDataVersion is the preflight's first check, before anything is
// written: a PGDATA whose PG_VERSION is another major than this image's
// server is refused with a *pgversion.MismatchError (both versions and how
// to upgrade), never left to PostgreSQL's own "database files are
// incompatible with server" after pgdock has written its files.
//
// With PGDOCK_UPGRADE=true and a cluster older than the server, the mismatch
// is not an error: it is returned as upgradeFrom for the in-place upgrade
// (entrypoint/internal/upgrade) to take. A newer cluster is refused whatever
// the variable says (there is no downgrade). No cluster yet, or the same
// major: (nil, nil).
func (r *runner) checkDataVersion(ctx context.Context) (upgradeFrom *pgversion.MismatchError, err error) {
	if r.bin.Dir == "" {
		return nil, nil
	}
	server, err := pgversion.FromBinDir(ctx, r.bin.Dir)
	if err != nil {
		r.log.Warn("cannot tell the server's PostgreSQL major; PGDATA's PG_VERSION is not compared with it", zap.Error(err))
		return nil, nil
	}
	if err := pgversion.CheckLayout(r.cfg.PGData, server, isMountPoint); err != nil {
		return nil, err
	}
	err = pgversion.CheckDataDir(r.cfg.PGData, server)
	var me *pgversion.MismatchError
	if !errors.As(err, &me) {
		return nil, err
	}
	upgrade, perr := r.upgradeRequested()
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	if upgrade && me.Older() {
		return me, nil
	}
	return nil, err
}

// isMountPoint is fsutil.IsMountPoint with an unreadable mountinfo taken
// as "not a mount point".
func isMountPoint(path string) bool {
	m, _ := fsutil.IsMountPoint(path)
	return m
}

// upgradeRequested reads PGDOCK_UPGRADE (unset: false).
func (r *runner) upgradeRequested() (bool, error) {
	v, ok := r.o.Env[upgradeVar]
	if !ok || strings.TrimSpace(v) == "" {
		return false, nil
	}
	b, err := config.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: %w", upgradeVar, v, err)
	}
	return b, nil
}

// checkSettings asks the installed PostgreSQL whether it accepts the
// POSTGRESQL_* settings (names, types, units, ranges, enum values), so a
// typo is refused, naming its variable, before anything is written. It is
// part of the preflight of every start and of `config validate`. When the
// check cannot run at all, a warning is logged and the start goes on. It is
// skipped when every setting is already, unchanged, in PGDATA's pgdock.conf
// (a restart with the same environment: the server accepted them then).
func (r *runner) checkSettings(ctx context.Context) error {
	var params []gucheck.Param
	source := map[string]config.Setting{}
	for _, s := range r.cfg.Settings {
		if s.Default || s.Exact {
			continue // pgdock's own default, or a value pgdock checked exactly as the server would
		}
		params = append(params, gucheck.Param{Name: s.Name, Value: s.Value})
		source[strings.ToLower(s.Name)] = s
	}
	if len(params) == 0 || r.settingsUnchanged() {
		return nil
	}
	probs, err := gucheck.New(r.bin.Postgres).Check(ctx, params)
	if err != nil {
		// The check itself could not run: the server will judge the
		// settings when it starts, as it always did.
		r.log.Warn("could not ask PostgreSQL about the POSTGRESQL_* settings; the server checks them when it starts", zap.Error(err))
		probs = nil
	}
	ve := &config.ValidationError{}
	if p := r.missingPreload(); p != nil {
		ve.Problems = append(ve.Problems, *p)
	}
	if len(probs) == 0 && len(ve.Problems) == 0 {
		return nil
	}
	for _, p := range probs {
		s, ok := source[strings.ToLower(p.Name)]
		if !ok {
			ve.Problems = append(ve.Problems, config.Problem{Var: "POSTGRESQL_*", Message: "PostgreSQL refuses the settings: " + p.Message})
			continue
		}
		ve.Problems = append(ve.Problems, config.Problem{Var: s.Source, Value: s.Value, Message: fmt.Sprintf("PostgreSQL refuses %s: %s", s.Name, p.Message)})
	}
	return ve
}

// settingsUnchanged reports whether PGDATA's pgdock.conf already holds
// every non-default setting exactly as it would be written now.
func (r *runner) settingsUnchanged() bool {
	conf, err := os.ReadFile(filepath.Join(r.cfg.PGData, render.ConfName))
	if err != nil {
		return false
	}
	for _, s := range r.cfg.Settings {
		if s.Default || s.Exact {
			continue
		}
		line, err := pgconf.FormatLine(s.Name, s.Value)
		if err != nil || !bytes.Contains(conf, []byte("\n"+line+"\t# "+s.Source+"\n")) {
			return false
		}
	}
	return true
}

// logProblems logs a preflight error: a *config.ValidationError one problem
// per line, anything else as one line. The missing password keeps the
// official text on stderr.
func (r *runner) logProblems(err error) {
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		r.log.Error(fmt.Sprintf("invalid configuration: %d problem(s); nothing was changed", len(ve.Problems)))
		for _, p := range ve.Problems {
			r.log.Error(p.String())
		}
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			r.log.Error(line)
		}
	}
}

// validatePlugins is the plugin half of `config validate`: the enabled
// plugins are found, verified against SHA256SUMS, started as the server's
// user (as a real start does) and asked to validate, then stopped.
func (r *runner) validatePlugins(ctx context.Context) int {
	names, err := pluginhost.Enabled(r.cfg.PluginDir, r.cfg.Env)
	if err != nil {
		r.logProblems(err)
		return ExitError
	}
	if len(names) == 0 {
		return ExitOK
	}
	if err := r.dropForPlugins(); err != nil {
		r.log.Error("cannot step down to the server user to ask the plugins", zap.Error(err))
		return ExitError
	}
	sockDir, err := os.MkdirTemp("", "pgdock-validate-")
	if err != nil {
		r.log.Error(err.Error())
		return ExitError
	}
	defer os.RemoveAll(sockDir)
	pl, err := r.startPlugins(ctx, sockDir)
	if err != nil {
		r.logProblems(err)
		return ExitError
	}
	pl.stop()
	return ExitOK
}

// dropForPlugins steps down to the server's user when running as root:
// plugins never run as root.
func (r *runner) dropForPlugins() error {
	if os.Getuid() != 0 {
		return nil
	}
	id, err := privilege.Lookup(r.o.ServerUser)
	if err != nil {
		return err
	}
	return privilege.Drop(id)
}

// missingPreload reports libraries of the user's shared_preload_libraries
// that are not installed: postgres -C does not load them, but the server
// refuses to start without them. A name without a slash is looked up as
// PostgreSQL does with the default dynamic_library_path ($libdir, with or
// without .so); with another dynamic_library_path nothing is checked.
func (r *runner) missingPreload() *config.Problem {
	var preload *config.Setting
	for i, s := range r.cfg.Settings {
		switch s.Name {
		case "dynamic_library_path":
			return nil
		case "shared_preload_libraries":
			preload = &r.cfg.Settings[i]
		}
	}
	libdir := filepath.Join(filepath.Dir(r.bin.Dir), "lib")
	if preload == nil || r.bin.Dir == "" {
		return nil
	}
	if fi, err := os.Stat(libdir); err != nil || !fi.IsDir() {
		return nil
	}
	var missing []string
	for _, name := range strings.Split(preload.Value, ",") {
		name = strings.Trim(strings.TrimSpace(name), `"`)
		if name == "" {
			continue
		}
		path := strings.Replace(name, "$libdir", libdir, 1)
		if !strings.Contains(path, "/") {
			path = filepath.Join(libdir, path)
		}
		if !fileExists(path) && !fileExists(path+".so") {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &config.Problem{Var: preload.Source, Value: preload.Value, Message: fmt.Sprintf(
		"PostgreSQL would not start: %s not installed in %s (install the extension's package in the image, or remove it)",
		strings.Join(missing, ", ")+map[bool]string{true: " is", false: " are"}[len(missing) == 1], libdir)}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
