package pgbackrest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Name is the plugin's name: pgdock-plugin-pgbackrest, PGBACKREST_ENABLE.
const Name = "pgbackrest"

// Version is the plugin's own version.
const Version = "0.1.0"

// ProvidedMarker is the host's record, in PGDATA, that a bootstrap
// provider (not initdb) created the cluster (entrypoint app.ProvidedName).
const ProvidedMarker = "pgdock_bootstrap_provided.json"

// Plugin is the pgbackrest plugin. Its state is the latest configuration,
// the server connection (from Started) and what the health probe reports.
type Plugin struct {
	sdk.Base
	log    hclog.Logger
	getenv func(string) string
	// lookPath finds pgbackrest (exec.LookPath; tests replace it).
	lookPath func(string) (string, error)

	mu      sync.Mutex
	cfg     *Config
	paths   Paths
	patroni bool // PATRONI_ENABLE: Patroni creates the cluster and replicas
	conn    *sdk.Conn
	role    sdk.Role
	started time.Time
	stanza  stanzaState
	info    infoState
	jobs    map[string]sdk.JobResult
	arch    archiverState

	loop     sync.Once
	wake     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

var (
	_ sdk.Plugin            = (*Plugin)(nil)
	_ sdk.RoleObserver      = (*Plugin)(nil)
	_ sdk.BootstrapProvider = (*Plugin)(nil)
	_ sdk.JobHealthReporter = (*Plugin)(nil)
)

// New returns the plugin.
func New(log hclog.Logger, getenv func(string) string) *Plugin {
	return &Plugin{log: log, getenv: getenv, lookPath: exec.LookPath,
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// Main serves the plugin to the pgdock-entrypoint that started it.
func Main() {
	sdk.Serve(New(sdk.NewLogger(Name), os.Getenv))
}

// Describe declares the variables, pgbackrest and the bootstrap provider.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	env := []sdk.EnvVar{
		{Name: EnvPrefix, Prefix: true, Description: "pgdock's pgBackRest settings (never passed to pgBackRest itself)"},
		{Name: EnvCipherPass, Secret: true, Description: "repository encryption passphrase"},
		{Name: EnvArchiveTimeoutBare, Description: "PostgreSQL's archive_timeout (alias of PGBACKREST_ARCHIVE_TIMEOUT)"},
		{Name: EnvPGData, Description: "data directory (a restore never overwrites a cluster it did not restore)"},
		{Name: EnvPostgresUser, Description: "superuser role pgBackRest connects as"},
		{Name: envWalLevel, Description: "checked: archiving needs wal_level replica or logical"},
		{Name: envArchiveMode, Description: "checked: archiving needs archive_mode on"},
		{Name: envPatroni, Description: "Patroni mode: replica creation, recovery and the restore on boot go through Patroni (contributed sections)"},
		{Name: envAWSRoleARN, Description: "passed to pgBackRest with PGBACKREST_REPO_S3_KEY_TYPE=web-id"},
		{Name: envAWSTokenFile, Description: "passed to pgBackRest with PGBACKREST_REPO_S3_KEY_TYPE=web-id"},
	}
	for _, o := range repoOptions {
		if o.secret {
			env = append(env, sdk.EnvVar{Name: EnvPrefix + "REPO_" + o.suffix, Secret: true, Description: "repo1-" + o.key})
		}
	}
	return sdk.Description{
		Name:              Name,
		Version:           Version,
		Env:               env,
		RequiredBinaries:  []sdk.Requirement{{Name: "pgbackrest", Package: "pgbackrest"}},
		ProvidesBootstrap: true,
	}, nil
}

const (
	envWalLevel    = "POSTGRESQL_CONFIG_WAL_LEVEL"
	envArchiveMode = "POSTGRESQL_CONFIG_ARCHIVE_MODE"
	envPatroni     = "PATRONI_ENABLE"
)

// Validate reports every problem of the variables, settings of the user's
// that make archiving impossible, a repository type the installed
// pgBackRest lacks, and a restore into a PGDATA that holds a cluster the
// plugin did not restore.
func (p *Plugin) Validate(ctx context.Context, env map[string]string) ([]sdk.Problem, error) {
	c, problems := Load(env)
	if c.ArchiveEnable {
		if v := strings.ToLower(strings.TrimSpace(env[envWalLevel])); v == "minimal" {
			problems = append(problems, sdk.Problem{Var: envWalLevel, Message: "minimal makes WAL archiving impossible; pgBackRest needs replica or logical (or set PGBACKREST_ARCHIVE_ENABLE=false)"})
		}
		if v := strings.TrimSpace(env[envArchiveMode]); v != "" {
			if b, err := sdk.ParseBool(v); err == nil && !b {
				problems = append(problems, sdk.Problem{Var: envArchiveMode, Message: "off disables WAL archiving, which pgBackRest needs (or set PGBACKREST_ARCHIVE_ENABLE=false)"})
			}
		}
	}
	if c.RepoType == RepoSFTP && len(problems) == 0 {
		if bin, err := p.lookPath("pgbackrest"); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			out, _ := command(cctx, []string{bin, "help", "backup", "repo-type"}, ProcessEnv()).CombinedOutput()
			cancel()
			if !strings.Contains(string(out), "sftp") {
				problems = append(problems, sdk.Problem{Var: EnvRepoType, Message: "sftp: the installed pgBackRest was built without SFTP support (Debian's 2.45 package lacks it); use posix, s3, gcs or azure"})
			}
		}
	}
	if patroniMode(env) {
		problems = append(problems, patroniProblems(c)...)
	} else if msg := restoreConflict(c); msg != "" {
		problems = append(problems, sdk.Problem{Var: EnvRestore, Message: msg})
	}
	return problems, nil
}

// patroniMode reports PATRONI_ENABLE=true: Patroni creates the cluster
// and its replicas, and the plugin contributes its parts to patroni.yml.
func patroniMode(env map[string]string) bool {
	b, err := sdk.ParseBool(env[envPatroni])
	return err == nil && b
}

// patroniProblems are the restore options that have no meaning under
// Patroni. Patroni restores only when it creates a new cluster (the node
// that bootstraps an uninitialised PATRONI_SCOPE with an empty PGDATA) and
// completes that bootstrap only once recovery has ended.
func patroniProblems(c Config) []sdk.Problem {
	var out []sdk.Problem
	if c.RestoreForce {
		out = append(out, sdk.Problem{Var: EnvRestoreForce, Message: "is not offered in Patroni mode: Patroni restores only when it creates a new cluster, never over existing data. To restore an existing cluster, stop every member, remove it from etcd (patronictl remove <PATRONI_SCOPE>) or use a new PATRONI_SCOPE, empty the data directories and start with PGBACKREST_RESTORE=true"})
	}
	if a := c.RestoreAction; a == "pause" || a == "shutdown" {
		out = append(out, sdk.Problem{Var: EnvRestoreAction, Message: fmt.Sprintf("%s is not offered in Patroni mode: Patroni completes a restore only when recovery ends (promote)", a)})
	}
	if t := c.RestoreType; t == "standby" || t == "preserve" {
		out = append(out, sdk.Problem{Var: EnvRestoreType, Message: fmt.Sprintf("%s is not offered in Patroni mode: the restored node becomes the new cluster's leader, and Patroni writes the recovery settings itself", t)})
	}
	return out
}

// restoreConflict refuses PGBACKREST_RESTORE=true with a PGDATA that holds
// a cluster the plugin did not restore ("" when there is none). A cluster
// a restore created starts normally: the restore ran once.
func restoreConflict(c Config) string {
	if !c.Restore || c.PGData == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(c.PGData, "PG_VERSION")); err != nil {
		return ""
	}
	if restoredByUs(c.PGData) {
		return ""
	}
	if c.RestoreForce {
		return ""
	}
	return fmt.Sprintf("PGDATA (%s) already holds a cluster that no pgbackrest restore created; pgdock never restores over it (nothing was changed). Unset PGBACKREST_RESTORE to start it, empty PGDATA to restore, or set PGBACKREST_RESTORE_FORCE=true to move it aside and restore", c.PGData)
}

// forceReplace reports whether a forced restore must replace the cluster
// in pgdata: PGBACKREST_RESTORE and _FORCE, and a cluster no pgbackrest
// restore created (a restored one is never restored again).
func forceReplace(c Config, pgdata string) bool {
	if !c.Restore || !c.RestoreForce {
		return false
	}
	if _, err := os.Stat(filepath.Join(pgdata, "PG_VERSION")); err != nil {
		return false
	}
	return !restoredByUs(pgdata)
}

// restoredByUs reports whether the host's bootstrap marker in pgdata names
// this plugin.
func restoredByUs(pgdata string) bool {
	b, err := os.ReadFile(filepath.Join(pgdata, ProvidedMarker))
	return err == nil && strings.Contains(string(b), `"plugin":"`+Name+`"`)
}

// Configure renders pgbackrest.conf, the archiving settings and the backup
// jobs, and on a first boot with PGBACKREST_RESTORE=true asks to provide it.
func (p *Plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	c, problems := Load(req.Env)
	if len(problems) > 0 {
		return sdk.Configuration{}, sdk.ProblemsError(problems)
	}
	patroni := patroniMode(req.Env)
	if patroni {
		if problems := patroniProblems(c); len(problems) > 0 {
			return sdk.Configuration{}, sdk.ProblemsError(problems)
		}
	}
	replace := false
	if !req.Server.FirstBoot && !patroni {
		c.PGData = req.Server.PGData
		if msg := restoreConflict(c); msg != "" {
			return sdk.Configuration{}, errors.New(EnvRestore + ": " + msg)
		}
		replace = forceReplace(c, c.PGData)
	}
	bin, err := p.lookPath("pgbackrest")
	if err != nil {
		return sdk.Configuration{}, fmt.Errorf("pgbackrest is not installed (Debian package pgbackrest): %w", err)
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	if c.ProcessMax == 0 {
		c.ProcessMax = runtime.NumCPU()
	}
	conf, err := Render(c, req.Server)
	if err != nil {
		return sdk.Configuration{}, err
	}
	paths := PathsFor(req.Server.FilesDir, bin)
	for _, name := range c.Ignored {
		p.log.Warn("variable of the shell container is ignored", "variable", name)
	}
	p.mu.Lock()
	p.cfg, p.paths, p.patroni = &c, paths, patroni
	p.mu.Unlock()
	if replace {
		p.log.Warn("PGBACKREST_RESTORE_FORCE=true: asking the entrypoint to move the existing cluster aside and restore", "pgdata", c.PGData)
	}
	out := sdk.Configuration{
		Settings:       paths.Settings(c),
		Files:          []sdk.File{{Path: ConfName, Content: conf, Mode: ConfMode}},
		Jobs:           paths.Jobs(c),
		WantsBootstrap: (c.Restore && req.Server.FirstBoot) || replace,
	}
	if patroni {
		out.Sections, err = paths.PatroniSections(c, req.Server.FirstBoot)
		if err != nil {
			return sdk.Configuration{}, err
		}
		if c.Restore && !req.Server.FirstBoot {
			p.log.Info("PGBACKREST_RESTORE is set but this node has data: Patroni restores only when it creates a new cluster (an empty PGDATA and an uninitialised PATRONI_SCOPE); nothing is restored")
		}
	}
	return out, nil
}

// PatroniSections are the plugin's parts of patroni.yml (see
// plugins/patroni, contrib.go): with archiving, pgBackRest as the first
// replica-creation method (basebackup stays the fallback, e.g. before the
// first backup) and archive-get as the replicas' restore_command; on a
// first boot with PGBACKREST_RESTORE=true, the restore as Patroni's
// bootstrap method (used only if this node creates the cluster).
//
// Every command runs through env -i with the rendered configuration:
// secrets stay in the 0640 file, never in patroni.yml or a command line.
func (p Paths) PatroniSections(c Config, firstBoot bool) ([]sdk.Section, error) {
	var out []sdk.Section
	add := func(name string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("section %s: %w", name, err)
		}
		out = append(out, sdk.Section{Target: patroniPlugin, Name: name, Content: b})
		return nil
	}
	if c.ArchiveEnable {
		rc, err := p.RestoreCommand(c)
		if err != nil {
			return nil, err
		}
		if err := add("replica_method."+Name, map[string]any{"command": p.ReplicaCommand(c), "keep_data": true, "no_params": true}); err != nil {
			return nil, err
		}
		if err := add("recovery_conf", map[string]string{"restore_command": rc}); err != nil {
			return nil, err
		}
	}
	if c.Restore && firstBoot {
		rec, err := p.PatroniRecoveryConf(c)
		if err != nil {
			return nil, err
		}
		if err := add("bootstrap_method."+Name, map[string]any{"command": p.PatroniRestoreCommand(c), "no_params": true,
			"keep_existing_recovery_conf": false, "recovery_conf": rec}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// patroniPlugin is the target of the sections.
const patroniPlugin = "patroni"

// BootstrapProvide returns the restore into the host's staging directory.
func (p *Plugin) BootstrapProvide(_ context.Context, req sdk.BootstrapProvideRequest) (*sdk.BootstrapCommand, error) {
	c, problems := Load(req.Env)
	if len(problems) > 0 {
		return nil, sdk.ProblemsError(problems)
	}
	p.mu.Lock()
	paths := p.paths
	p.mu.Unlock()
	if paths.Conf == "" {
		return nil, errors.New("restore requested before Configure")
	}
	argv, err := paths.RestoreArgv(c, req.Server.PGData)
	if err != nil {
		return nil, err
	}
	p.log.Info("restoring instead of initdb", "stanza", c.Stanza, "marker", c.RestoreMarker())
	return &sdk.BootstrapCommand{Argv: argv, Env: c.Env(), Marker: c.RestoreMarker()}, nil
}

// Started records how to reach the server and, on the primary, creates the
// stanza (in the background unless PGBACKREST_STANZA_CREATE_FATAL=true).
func (p *Plugin) Started(ctx context.Context, req sdk.HookRequest) error {
	p.mu.Lock()
	conn := req.Conn
	p.conn, p.role, p.started = &conn, req.Role, time.Now()
	p.mu.Unlock()
	p.startLoop()
	if p.stanzaOK() {
		return nil // created by this first boot's Bootstrap hook
	}
	return p.onRole(ctx, req.Role)
}

// RoleChanged creates the stanza when the node becomes the primary.
func (p *Plugin) RoleChanged(ctx context.Context, req sdk.RoleChange) error {
	p.mu.Lock()
	conn := req.Conn
	p.conn, p.role = &conn, req.Role
	p.mu.Unlock()
	return p.onRole(ctx, req.Role)
}

func (p *Plugin) onRole(ctx context.Context, role sdk.Role) error {
	if role != sdk.RolePrimary {
		return nil
	}
	p.mu.Lock()
	c := p.cfg
	p.mu.Unlock()
	if c == nil {
		return errors.New("Started before Configure")
	}
	if c.StanzaCreateFatal {
		return p.ensureStanza(ctx)
	}
	p.wg.Go(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		go func() {
			select {
			case <-p.stop:
				cancel()
			case <-sctx.Done():
			}
		}()
		_ = p.ensureStanza(sctx)
	})
	return nil
}

// Stopping ends the background work.
func (p *Plugin) Stopping(context.Context) error {
	p.stopOnce.Do(func() { close(p.stop) })
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// command builds a pgbackrest process with the deliberate environment.
func command(ctx context.Context, argv []string, env map[string]string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}
