package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
)

// ProvidedName is the file in PGDATA recording that a bootstrap provider
// (not initdb) created the cluster.
const ProvidedName = "pgdock_bootstrap_provided.json"

// bootstrapProvider asks the plugins (Configure on first boot) whether one
// wants to provide this first boot; "" when none does.
func (s *server) bootstrapProvider(ctx context.Context) (string, error) {
	if s.plugins == nil {
		return "", nil
	}
	in := s.renderInput()
	s.firstBoot = true
	if err := s.plugins.configure(ctx, &in, s.configureInput(), false); err != nil {
		return "", err
	}
	provider := s.plugins.contrib.BootstrapProvider
	if provider != "" {
		// The provider's command may need the files it returned (a restore
		// reads pgbackrest.conf); they are written again with the rest of
		// the configuration after it.
		if err := writePluginFiles(s.plugins.contrib.Files); err != nil {
			return "", err
		}
	}
	return provider, nil
}

// provideBootstrap runs the provider's command into dir instead of initdb:
// through the reaper, in its own process group, output to the container
// log; a stop (ctx) sends SIGTERM to the group and SIGKILL after half the
// budget.
func (s *server) provideBootstrap(ctx context.Context, plugin, dir string) error {
	c, err := s.plugins.m.BootstrapProvide(ctx, plugin, dir)
	if err != nil {
		return err
	}
	s.provided = c.Marker
	s.log().Info("a plugin provides the first boot instead of initdb", zap.String("plugin", plugin), zap.String("command", c.Argv[0]))
	x := exec.Command(c.Argv[0], c.Argv[1:]...)
	keys := make([]string, 0, len(c.Env))
	for k := range c.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	x.Env = []string{}
	for _, k := range keys {
		x.Env = append(x.Env, k+"="+c.Env[k])
	}
	x.Stdout, x.Stderr = s.r.o.Stdout, s.r.o.Stderr
	x.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	child, err := s.r.reaper.Start(x)
	if err != nil {
		return fmt.Errorf("plugin %s: start the bootstrap command: %w", plugin, err)
	}
	select {
	case <-child.Done():
	case <-ctx.Done():
		child.KillGroup(syscall.SIGTERM)
		t := time.NewTimer(s.cfg().Timeout / 2)
		select {
		case <-child.Done():
		case <-t.C:
			child.KillGroup(syscall.SIGKILL)
			<-child.Done()
		}
		t.Stop()
	}
	child.KillGroup(syscall.SIGKILL) // nothing of it outlives it
	if err := child.Wait(); err != nil {
		return fmt.Errorf("plugin %s: bootstrap command failed: %w", plugin, err)
	}
	return nil
}

// recordProvided writes ProvidedName into PGDATA.
func (s *server) recordProvided(plugin string) {
	data, _ := json.Marshal(map[string]string{"plugin": plugin, "marker": s.provided, "completed": time.Now().UTC().Format(time.RFC3339)})
	if err := fsutil.WriteFileAtomic(filepath.Join(s.cfg().PGData, ProvidedName), append(data, '\n'), 0o600); err != nil {
		s.log().Warn("cannot record the bootstrap provider", zap.Error(err))
	}
}

// AsideSuffix is inserted between PGDATA and a UTC timestamp to name the
// directory a replaced cluster is moved to (PGDATA.pre-restore-20261203T190000Z).
const AsideSuffix = ".pre-restore-"

// replaceForProvider handles a bootstrap provider that asked, on a boot
// with an initialised PGDATA, to replace the cluster (PGBACKREST_RESTORE_FORCE):
// PGDATA is renamed aside (never deleted) and the first boot runs with the
// provider. Renaming needs a PGDATA that is not a mount point, in a parent
// the server user may write; otherwise nothing is changed and the start
// stops with the reason. ok is false when the lifecycle must end with code.
func (s *server) replaceForProvider(ctx context.Context) (code int, ok bool) {
	if s.plugins == nil || s.plugins.contrib.BootstrapProvider == "" {
		return ExitOK, true
	}
	provider := s.plugins.contrib.BootstrapProvider
	pgdata := filepath.Clean(s.cfg().PGData)
	aside := pgdata + AsideSuffix + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(pgdata, aside); err != nil {
		hint := ""
		if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
			hint = " (PGDATA is a mount point: mount the volume one level up, or empty PGDATA yourself)"
		} else if errors.Is(err, os.ErrPermission) {
			hint = " (the server user cannot write PGDATA's parent directory)"
		}
		s.log().Error("a plugin asked to replace the existing cluster, but PGDATA cannot be moved aside; nothing was changed"+hint,
			zap.String("plugin", provider), zap.String("pgdata", pgdata), zap.Error(err))
		return ExitError, false
	}
	if err := os.Mkdir(pgdata, 0o700); err != nil {
		s.log().Error("cannot create the new PGDATA after moving the old one aside", zap.String("aside", aside), zap.Error(err))
		return ExitError, false
	}
	s.log().Warn("the existing cluster was moved aside for a plugin's bootstrap (a forced restore); remove it once you no longer need it",
		zap.String("plugin", provider), zap.String("moved_to", aside))
	s.firstBoot = true
	return s.bootstrap(ctx)
}
