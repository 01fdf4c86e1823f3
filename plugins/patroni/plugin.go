package patroni

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/pgbin"
)

// Name is the plugin's name: pgdock-plugin-patroni, PATRONI_ENABLE.
const Name = "patroni"

// Version is the plugin's own version.
const Version = "0.1.0"

// Mode is the run mode the plugin provides.
const Mode = "patroni"

// Other variables the plugin reads besides the contract's patroni ones.
const EnvLogLevel = "LOG_LEVEL"

// nameCheckTimeout bounds CheckName in Validate.
const nameCheckTimeout = 5 * time.Second

// Plugin is the Patroni mode provider.
type Plugin struct {
	sdk.Base

	log    hclog.Logger
	getenv func(string) string
	sys    System

	mu     sync.Mutex
	cfg    *Config           // latest valid configuration (Configure/ModeCommand)
	server sdk.Server        // latest server description
	merged *sdk.MergedConfig // the merged configuration ModeCommand received
	custom bool              // a custom bootstrap method is configured (see StatusOf)
}

var (
	_ sdk.Plugin             = (*Plugin)(nil)
	_ sdk.ModeStatusReporter = (*Plugin)(nil)
)

// New returns the plugin; getenv reads the plugin process's own environment
// (PATH and the locale, passed on to Patroni).
func New(log hclog.Logger, getenv func(string) string, sys System) *Plugin {
	return &Plugin{log: log, getenv: getenv, sys: sys}
}

// Main serves the plugin to the pgdock-entrypoint that started it.
func Main() {
	log := sdk.NewLogger(Name)
	sdk.Serve(New(log, os.Getenv, OSSystem()))
}

// Describe declares the variables, the mode and the patroni program.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:    Name,
		Version: Version,
		Env: []sdk.EnvVar{
			{Name: EnvPrefix, Prefix: true, Description: "pgdock's Patroni settings (never passed to Patroni itself)"},
			{Name: EnvRESTPassword, Secret: true, Description: "password of Patroni's REST API (with PATRONI_REST_USERNAME)"},
			{Name: EnvPGConnectHost, Description: "address other members reach this node's PostgreSQL at"},
			{Name: EnvETCDHosts, Description: "etcd members, comma-separated host:port (v3 API)"},
			{Name: EnvETCDHost, Description: "one etcd host (with ETCD_PORT)"},
			{Name: EnvETCDPort, Description: "etcd client port, default 2379"},
			{Name: EnvReplicationUser, Description: "replication role, default replicator"},
			{Name: EnvReplicationPass, Secret: true, Description: "replication role's password (required)"},
			{Name: EnvPostgresUser, Description: "superuser role"},
			{Name: EnvPostgresPassword, Secret: true, Description: "superuser password"},
			{Name: EnvInitdbArgs, Description: "initdb options for Patroni's bootstrap"},
			{Name: EnvHostAuthMethod, Description: "method of the `host all all all` rule"},
			{Name: EnvExternalAccess, Description: "false: no `host all all all` rule"},
			{Name: EnvLang, Description: "initdb locale"},
			{Name: EnvLogLevel, Description: "Patroni's log level"},
			{Name: EnvStateDir, Description: "host state directory, for the post-bootstrap callback"},
		},
		RequiredBinaries: []sdk.Requirement{{Name: "patroni", Package: "patroni (and python3-etcd for etcd3)"}},
		ProvidesMode:     Mode,
	}, nil
}

// Validate reports every problem of the patroni variables and, when they
// are valid, refuses a PATRONI_NAME a live member already uses (before the
// host touches PGDATA).
func (p *Plugin) Validate(ctx context.Context, env map[string]string) ([]sdk.Problem, error) {
	c, problems := Load(env, p.sys)
	if len(problems) > 0 {
		return problems, nil
	}
	cctx, cancel := context.WithTimeout(ctx, nameCheckTimeout)
	defer cancel()
	if err := CheckName(cctx, c, nil); err != nil {
		problems = append(problems, sdk.Problem{Var: EnvName, Message: err.Error()})
	}
	return problems, nil
}

// Configure renders patroni.yml. Patroni writes PostgreSQL's configuration
// in this mode, so the plugin contributes no settings or rules of its own.
// Before ModeCommand the file lacks the merged configuration (ModeCommand
// completes it); after it (a reload), Configure renders with the merged
// configuration ModeCommand received, so a rewrite never drops it.
func (p *Plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	f, err := p.render(req.Env, req.Server)
	if err != nil {
		return sdk.Configuration{}, err
	}
	return sdk.Configuration{Files: []sdk.File{f}}, nil
}

func (p *Plugin) render(env map[string]string, server sdk.Server) (sdk.File, error) {
	c, problems := Load(env, p.sys)
	if len(problems) > 0 {
		return sdk.File{}, sdk.ProblemsError(problems)
	}
	if server.FilesDir == "" {
		return sdk.File{}, errors.New("the host gave no files directory for patroni.yml")
	}
	bin, err := pgbin.FindBinDir(nil, "")
	if err != nil {
		return sdk.File{}, err
	}
	p.mu.Lock()
	var merged sdk.MergedConfig
	if p.merged != nil {
		merged = *p.merged
	}
	p.mu.Unlock()
	f, err := Render(c, InputFrom(server, bin, env[EnvLogLevel], merged))
	if err != nil {
		return sdk.File{}, err
	}
	p.mu.Lock()
	p.cfg, p.server = &c, server
	p.mu.Unlock()
	return f, nil
}

// ModeCommand renders patroni.yml again, now with the merged
// configuration (settings, preload libraries and hba rules of env and every
// plugin, sections contributed for patroni) and returns it with the
// command (sdk.Command.Files: the host writes it over the file Configure
// returned, 0600, before it starts patroni), and patroni with a
// deliberately built environment. Patroni
// owns bootstrap: it runs initdb or pg_basebackup itself and calls
// `pgdock-entrypoint hook post-bootstrap` on the node that bootstraps.
func (p *Plugin) ModeCommand(_ context.Context, req sdk.ModeCommandRequest) (*sdk.Command, error) {
	c, problems := Load(req.Env, p.sys)
	if len(problems) > 0 {
		return nil, sdk.ProblemsError(problems)
	}
	if req.Server.FilesDir == "" {
		return nil, errors.New("the host gave no files directory for patroni.yml")
	}
	bin, err := pgbin.FindBinDir(nil, "")
	if err != nil {
		return nil, err
	}
	in := InputFrom(req.Server, bin, req.Env[EnvLogLevel], req.Merged)
	doc, err := Build(c, in)
	if err != nil {
		return nil, err
	}
	if len(doc.Dropped) > 0 {
		p.log.Info("settings not passed to Patroni: it does not know them and would remove them (Debian-only parameters; the server keeps its default)", "settings", strings.Join(doc.Dropped, ","))
	}
	if doc.Bootstrap.Method != "" {
		p.log.Info("bootstrap method contributed: a new cluster is created by it instead of initdb", "method", doc.Bootstrap.Method)
	}
	f, err := Render(c, in)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.cfg, p.server, p.merged = &c, req.Server, &req.Merged
	p.custom = doc.Bootstrap.Method != ""
	p.mu.Unlock()
	p.log.Info("patroni mode", "scope", c.Scope, "name", c.Name, "etcd", strings.Join(c.ETCDHosts, ","),
		"rest", c.RESTConnectHost+":"+strconv.Itoa(c.RESTPort), "postgresql", c.PGConnectHost+":"+strconv.Itoa(req.Server.Port))
	cmd := Command(req.Server.FilesDir, ChildEnv(p.getenv, req.Env))
	cmd.OwnsBootstrap = true
	cmd.Files = []sdk.File{f} // the host writes it (0600, server user) before it starts patroni
	return cmd, nil
}

// InputFrom builds Render's input from the host's merged configuration;
// only sections targeting this plugin are taken.
func InputFrom(server sdk.Server, binDir, logLevel string, m sdk.MergedConfig) Input {
	in := Input{Server: server, BinDir: binDir, LogLevel: logLevel, Settings: m.Settings,
		PreloadLibraries: m.PreloadLibraries, HBARules: m.HBARules}
	for _, s := range m.Sections {
		if s.Target == "" || s.Target == Name {
			in.Sections = append(in.Sections, Section{Name: s.Name, Content: s.Content})
		}
	}
	return in
}

// ModeStatus answers the host's poll: role, readiness and the current
// postmaster pid, from Patroni's REST API.
func (p *Plugin) ModeStatus(ctx context.Context) (sdk.ModeStatus, error) {
	st, err := p.Status(ctx)
	if err != nil {
		return sdk.ModeStatus{Role: sdk.RoleNone, Message: err.Error()}, nil
	}
	return sdk.ModeStatus{Role: st.Role, PostmasterPID: st.PostmasterPID, Ready: st.Ready, Message: st.Message}, nil
}

// Status asks the local Patroni for role, readiness and the postmaster pid
// (the body of the ModeStatus hook).
func (p *Plugin) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	c, server, custom := p.cfg, p.server, p.custom
	p.mu.Unlock()
	if c == nil {
		return Status{Role: sdk.RoleNone}, errors.New("not configured yet")
	}
	return StatusOf(ctx, NewREST(c.RESTPort), server.PGData, c.Name, custom), nil
}

// Health reports Patroni's liveness and readiness with role, state,
// timeline and lag as details. Healthy means live.
func (p *Plugin) Health(ctx context.Context) (sdk.Health, error) {
	c, _ := p.current()
	if c == nil {
		return sdk.Health{Healthy: true, Message: "patroni: not configured yet"}, nil
	}
	return HealthOf(ctx, NewREST(c.RESTPort), c.Name), nil
}

// HealthOf builds a health answer from the REST API.
func HealthOf(ctx context.Context, r *REST, name string) sdk.Health {
	live, err := r.Probe(ctx, "/liveness")
	if err != nil {
		return sdk.Health{Healthy: false, Message: err.Error(), Details: map[string]string{"liveness": "unreachable"}}
	}
	ready, _ := r.Probe(ctx, "/readiness")
	d := map[string]string{"liveness": strconv.Itoa(live), "readiness": strconv.Itoa(ready)}
	n, err := r.Node(ctx)
	if err == nil {
		d["role"], d["state"], d["timeline"] = n.Role, n.State, strconv.Itoa(n.Timeline)
		d["pgdock_role"] = RoleOf(n).String()
		if n.Role != "master" && n.Role != "primary" {
			if lag, err := r.Lag(ctx, name); err == nil && lag >= 0 {
				d["lag_bytes"] = strconv.FormatInt(lag, 10)
			}
		}
	}
	h := sdk.Health{Healthy: live == http.StatusOK, Details: d}
	h.Message = fmt.Sprintf("patroni liveness %d, readiness %d, role %s, state %s", live, ready, d["role"], d["state"])
	return h
}

func (p *Plugin) current() (*Config, sdk.Server) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg, p.server
}
