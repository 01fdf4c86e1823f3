package citus

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// Name is the plugin's name: pgdock-plugin-citus, CITUS_ENABLE.
const Name = "citus"

// application is the plugin's application_name in pg_stat_activity.
const application = "pgdock-citus"

// Version is the plugin's own version.
const Version = "0.2.0"

// Package is what to install for the extension; the host replaces <major>
// with PostgreSQL's major version.
const Package = "postgresql-<major>-citus-<version> (Citus Data's apt repository, packagecloud.io/citusdata/community; pgdock's image: build argument CITUS_VERSION, docs/images.md)"

// MaxPreparedTransactions is the plugin's default for
// max_prepared_transactions: Citus commits multi-shard changes with
// two-phase commit (twice the default max_connections, as Patroni does).
const MaxPreparedTransactions = "200"

// DefaultMonitorInterval is how often a coordinator re-reads its workers'
// state for the health probe.
const DefaultMonitorInterval = 15 * time.Second

// Options are the plugin's knobs besides the environment; tests change
// them, Main uses the defaults.
type Options struct {
	Schema    string // where Citus's functions and tables are: pg_catalog
	Extension string // the extension created: citus
	Backoff   Backoff
	Hostname  func() (string, error) // CITUS_ADVERTISE_HOST's default
	// MonitorInterval is the coordinator's worker check period.
	MonitorInterval time.Duration
}

// DefaultOptions are the production options.
func DefaultOptions() Options {
	return Options{Schema: CatalogSchema, Extension: Extension, Backoff: DefaultBackoff, Hostname: os.Hostname, MonitorInterval: DefaultMonitorInterval}
}

// Plugin is the citus plugin.
type Plugin struct {
	sdk.Base
	log  hclog.Logger
	opts Options

	act      sync.Mutex // one activation at a time (Started, RoleChanged)
	mu       sync.Mutex
	state    string // what Health reports when nothing runs
	cfg      Config
	cancel   context.CancelFunc // background work (registration, worker monitor)
	done     chan struct{}
	reg      *Registrar
	target   string // coordinator host:port (worker)
	advert   string // advertised host:port
	monitor  workerCheck
	checking bool
}

// workerCheck is the coordinator's last look at its workers.
type workerCheck struct {
	at       time.Time
	err      string
	total    int
	inactive []string
}

var (
	_ sdk.Plugin       = (*Plugin)(nil)
	_ sdk.RoleObserver = (*Plugin)(nil)
)

// New returns the plugin.
func New(log hclog.Logger, opts Options) *Plugin {
	d := DefaultOptions()
	if opts.Schema == "" {
		opts.Schema = d.Schema
	}
	if opts.Extension == "" {
		opts.Extension = d.Extension
	}
	if opts.Backoff.Initial <= 0 {
		opts.Backoff = d.Backoff
	}
	if opts.Hostname == nil {
		opts.Hostname = d.Hostname
	}
	if opts.MonitorInterval <= 0 {
		opts.MonitorInterval = d.MonitorInterval
	}
	return &Plugin{log: log, opts: opts, state: "not started"}
}

// Main serves the plugin to the pgdock-entrypoint that started it.
func Main() {
	sdk.Serve(New(sdk.NewLogger(Name), DefaultOptions()))
}

// Describe declares the plugin.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:    Name,
		Version: Version,
		Env: []sdk.EnvVar{
			{Name: EnvPrefix, Prefix: true, Description: "Citus settings (see docs/plugins.md)"},
			{Name: EnvCoordinatorPassword, Secret: true, Description: "password a worker uses at the coordinator (default POSTGRES_PASSWORD)"},
			{Name: EnvPostgresDB, Description: "CITUS_DATABASE's default"},
			{Name: EnvPostgresUser, Description: "CITUS_COORDINATOR_USER's default"},
			{Name: EnvPostgresPassword, Secret: true, Description: "CITUS_COORDINATOR_PASSWORD's default"},
			{Name: EnvPatroniEnable, Description: "CITUS_GROUP needs Patroni mode"},
		},
		PreloadLibraries:   []sdk.PreloadLibrary{{Name: "citus", Order: sdk.PreloadFirst}},
		RequiredExtensions: []sdk.Requirement{{Name: "citus", Package: Package}},
		After:              []string{"patroni"},
	}, nil
}

// Validate reports every problem of the CITUS_* variables.
func (p *Plugin) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	_, problems := Load(env)
	return problems, nil
}

func load(env map[string]string) (Config, error) {
	c, problems := Load(env)
	if len(problems) == 0 {
		return c, nil
	}
	return c, sdk.ProblemsError(problems)
}

// Configure contributes max_prepared_transactions in direct mode and, under
// Patroni (CITUS_GROUP), Patroni's citus section, which makes Patroni
// manage the Citus cluster.
func (p *Plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	c, err := load(req.Env)
	if err != nil {
		return sdk.Configuration{}, err
	}
	if c.Patroni() {
		sec, err := PatroniSection(c)
		if err != nil {
			return sdk.Configuration{}, err
		}
		return sdk.Configuration{Sections: []sdk.Section{sec}}, nil
	}
	return sdk.Configuration{Settings: []sdk.Setting{{Name: "max_prepared_transactions", Value: MaxPreparedTransactions}}}, nil
}

// PatroniSection is Patroni's `citus:` section: {group, database}.
func PatroniSection(c Config) (sdk.Section, error) {
	b, err := json.Marshal(struct {
		Group    int    `json:"group"`
		Database string `json:"database"`
	}{c.Group, c.Database})
	if err != nil {
		return sdk.Section{}, err
	}
	return sdk.Section{Target: "patroni", Name: "citus", Content: b}, nil
}

// Bootstrap creates CITUS_DATABASE when missing and the extension in it,
// so init scripts can already distribute tables. Under Patroni, Patroni
// does it.
func (p *Plugin) Bootstrap(ctx context.Context, req sdk.HookRequest) error {
	c, err := load(req.Env)
	if err != nil || c.Patroni() {
		return err
	}
	return p.ensureExtension(ctx, req.Conn, c.Database)
}

// Started does the primary's work (extension, coordinator host or worker
// registration, in the background); nothing on a replica or under Patroni.
func (p *Plugin) Started(ctx context.Context, req sdk.HookRequest) error {
	c, err := load(req.Env)
	if err != nil {
		return err
	}
	return p.activate(ctx, c, req.Conn, req.Role)
}

// RoleChanged starts the primary's work after a promotion and stops the
// background work on a demotion.
func (p *Plugin) RoleChanged(ctx context.Context, req sdk.RoleChange) error {
	c, err := load(req.Env)
	if err != nil {
		return err
	}
	return p.activate(ctx, c, req.Conn, req.Role)
}

// Stopping ends the background work. A worker never removes itself from
// the coordinator on stop: a restart must find its shards where they were.
func (p *Plugin) Stopping(context.Context) error {
	p.act.Lock()
	defer p.act.Unlock()
	p.stopBackground()
	return nil
}

func (p *Plugin) setState(s string) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

func (p *Plugin) stopBackground() {
	p.mu.Lock()
	cancel, done := p.cancel, p.done
	p.cancel, p.done, p.reg, p.checking = nil, nil, nil, false
	p.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (p *Plugin) activate(ctx context.Context, c Config, conn sdk.Conn, role sdk.Role) error {
	p.act.Lock()
	defer p.act.Unlock()
	if c.Patroni() {
		p.setState(fmt.Sprintf("Patroni manages the Citus cluster (group %d)", c.Group))
		p.log.Info("Patroni manages the Citus cluster; nothing to do", "group", c.Group)
		return nil
	}
	if role == sdk.RoleReplica || role == sdk.RoleNone {
		p.stopBackground()
		p.setState("role " + role.String() + ": nothing to do")
		p.log.Info("not a primary: nothing to do", "role", role.String())
		return nil
	}
	if role == sdk.RoleUnspecified {
		replica, err := p.inRecovery(ctx, conn)
		if err != nil {
			return err
		}
		if replica {
			p.stopBackground()
			p.setState("replica: nothing to do")
			return nil
		}
	}
	p.mu.Lock()
	running := p.cancel != nil
	p.mu.Unlock()
	if running {
		return nil
	}
	if err := p.ensureExtension(ctx, conn, c.Database); err != nil {
		return err
	}
	host, port, err := p.advertised(c, conn)
	if err != nil {
		return err
	}
	if err := p.ensureAuthinfo(ctx, conn, c); err != nil {
		return err
	}
	if c.Role == RoleCoordinator {
		if err := p.setCoordinatorHost(ctx, conn, c.Database, host, port); err != nil {
			return err
		}
	}
	bg, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p.mu.Lock()
	p.cfg, p.cancel, p.done = c, cancel, done
	p.advert = fmt.Sprintf("%s:%d", host, port)
	p.mu.Unlock()
	switch c.Role {
	case RoleCoordinator:
		p.setState("coordinator")
		p.mu.Lock()
		p.checking = true
		p.mu.Unlock()
		go func() {
			defer close(done)
			p.monitorWorkers(bg, conn, c.Database)
		}()
	case RoleWorker:
		if !c.AutoRegister {
			p.setState(fmt.Sprintf("worker; %s=false: register it on the coordinator yourself", EnvAutoRegister))
			close(done)
			return nil
		}
		reg := &Registrar{
			SQL: SQL{Schema: p.opts.Schema}, Host: host, Port: port, Backoff: p.opts.Backoff, Log: p.log,
			Coordinator: CoordinatorTarget(c),
		}
		p.mu.Lock()
		p.reg, p.target = reg, fmt.Sprintf("%s:%d", c.CoordinatorHost, c.CoordinatorPort)
		p.mu.Unlock()
		p.setState("worker")
		go func() {
			defer close(done)
			_ = reg.Run(bg)
		}()
	}
	return nil
}

// advertised is how the other nodes reach this one.
func (p *Plugin) advertised(c Config, conn sdk.Conn) (string, int, error) {
	host, port := c.AdvertiseHost, c.AdvertisePort
	if host == "" {
		h, err := p.opts.Hostname()
		if err != nil || h == "" {
			return "", 0, fmt.Errorf("cannot read the host name for %s (set it): %v", EnvAdvertiseHost, err)
		}
		host = h
	}
	if port == 0 {
		port = conn.Port
	}
	return host, port, nil
}

// CoordinatorTarget is the session a worker opens on its coordinator's
// Citus database over TCP, with the password (a passfile for psql only).
func CoordinatorTarget(c Config) psql.Target {
	return psql.Target{Host: c.CoordinatorHost, Port: c.CoordinatorPort, User: c.CoordinatorUser, Password: c.CoordinatorPassword,
		Database: c.Database, SSLMode: c.CoordinatorSSLMode, Application: application, ConnectTimeout: coordinatorConnectTimeout}
}

// coordinatorConnectTimeout bounds a worker's connection attempt to its
// coordinator.
const coordinatorConnectTimeout = 5 * time.Second

func (p *Plugin) inRecovery(ctx context.Context, c sdk.Conn) (bool, error) {
	return psql.InRecovery(ctx, psql.Local(c, c.Database, application))
}

// ensureExtension creates db when missing (through the maintenance
// database of conn) and the extension in it.
func (p *Plugin) ensureExtension(ctx context.Context, c sdk.Conn, db string) error {
	maint := psql.Local(c, c.Database, application)
	exists, err := psql.QueryBool(ctx, maint, DatabaseExists, psql.Vars{"database": db})
	if err == nil && !exists {
		p.log.Info("creating the Citus database", "database", db)
		err = psql.Exec(ctx, maint, CreateDatabase(db), nil)
	}
	if err != nil {
		return fmt.Errorf("database %q for %s: %w", db, EnvDatabase, err)
	}
	if err := psql.Exec(ctx, psql.Local(c, db, application), psql.CreateExtension(p.opts.Extension), nil); err != nil {
		return fmt.Errorf("create extension %s in database %q: %w", p.opts.Extension, db, err)
	}
	return nil
}

// ensureAuthinfo records the superuser's password for Citus's own
// connections between nodes (pg_dist_authinfo, every node), so the
// coordinator reaches its workers without trust rules. Nothing without a
// password. The password travels to psql on its stdin (a variable).
func (p *Plugin) ensureAuthinfo(ctx context.Context, c sdk.Conn, cfg Config) error {
	if cfg.CoordinatorPassword == "" {
		return nil
	}
	t := psql.Local(c, cfg.Database, application)
	q := SQL{Schema: p.opts.Schema}
	vars := psql.Vars{"role": c.User, "authinfo": conninfo("password", cfg.CoordinatorPassword)}
	exists, err := psql.QueryBool(ctx, t, q.AuthinfoExists(), vars)
	if err != nil {
		return fmt.Errorf("read pg_dist_authinfo: %w", err)
	}
	stmt := q.InsertAuthinfo()
	if exists {
		stmt = q.UpdateAuthinfo()
	}
	if err := psql.Exec(ctx, t, stmt, vars); err != nil {
		return fmt.Errorf("write pg_dist_authinfo for role %q: %w", c.User, err)
	}
	return nil
}

// setCoordinatorHost records the coordinator's own address unless it is
// recorded already.
func (p *Plugin) setCoordinatorHost(ctx context.Context, c sdk.Conn, db, host string, port int) error {
	t := psql.Local(c, db, application)
	q := SQL{Schema: p.opts.Schema}
	vars := psql.Vars{"host": host, "port": strconv.Itoa(port)}
	there, err := psql.QueryBool(ctx, t, q.CoordinatorRecorded(), vars)
	if err != nil {
		return fmt.Errorf("read pg_dist_node: %w", err)
	}
	if there {
		return nil
	}
	if _, err := psql.Query(ctx, t, q.SetCoordinatorHost(), vars); err != nil {
		return fmt.Errorf("citus_set_coordinator_host(%s, %d): %w", host, port, err)
	}
	p.log.Info("coordinator host recorded", "host", host, "port", port)
	return nil
}

// monitorWorkers refreshes the coordinator's view of its workers until ctx
// ends, with one psql run per check.
func (p *Plugin) monitorWorkers(ctx context.Context, c sdk.Conn, db string) {
	for {
		p.checkWorkers(ctx, c, db)
		t := time.NewTimer(p.opts.MonitorInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (p *Plugin) checkWorkers(ctx context.Context, c sdk.Conn, db string) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	check := workerCheck{at: time.Now()}
	err := func() error {
		rows, err := psql.Query(cctx, psql.Local(c, db, application), SQL{Schema: p.opts.Schema}.Workers(), nil)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if len(r) != 3 || r[0] == nil || r[1] == nil || r[2] == nil {
				return fmt.Errorf("unexpected pg_dist_node row (%d columns or NULL)", len(r))
			}
			check.total++
			if *r[2] != "t" {
				check.inactive = append(check.inactive, *r[0]+":"+*r[1])
			}
		}
		return nil
	}()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		check.err = "read pg_dist_node: " + err.Error()
	}
	p.mu.Lock()
	p.monitor = check
	p.mu.Unlock()
}

// Health: a coordinator is healthy when every worker it knows is active; a
// worker when it is registered with its coordinator (or registration is
// off). A node with nothing to do (replica, Patroni) is healthy.
func (p *Plugin) Health(context.Context) (sdk.Health, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.reg != nil:
		st := p.reg.Status()
		d := map[string]string{"role": RoleWorker, "coordinator": p.target, "advertised": p.advert,
			"registered": strconv.FormatBool(st.Registered), "attempts": strconv.Itoa(st.Attempts)}
		if st.Registered {
			return sdk.Health{Healthy: true, Message: fmt.Sprintf("worker %s registered with coordinator %s", p.advert, p.target), Details: d}, nil
		}
		msg := fmt.Sprintf("worker %s not registered with coordinator %s yet", p.advert, p.target)
		if st.LastError != "" {
			d["last_error"] = st.LastError
			msg += fmt.Sprintf(" (attempt %d: %s)", st.Attempts, st.LastError)
		}
		return sdk.Health{Healthy: false, Message: msg, Details: d}, nil
	case p.checking:
		m := p.monitor
		d := map[string]string{"role": RoleCoordinator, "advertised": p.advert}
		if m.at.IsZero() {
			return sdk.Health{Healthy: true, Message: "coordinator: checking the workers", Details: d}, nil
		}
		d["checked_at"] = m.at.UTC().Format(time.RFC3339)
		if m.err != "" {
			return sdk.Health{Healthy: false, Message: "coordinator: " + m.err, Details: d}, nil
		}
		d["workers"] = strconv.Itoa(m.total)
		d["active_workers"] = strconv.Itoa(m.total - len(m.inactive))
		if len(m.inactive) > 0 {
			d["inactive"] = strings.Join(m.inactive, ",")
			return sdk.Health{Healthy: false, Message: fmt.Sprintf("coordinator: %d of %d workers inactive: %s", len(m.inactive), m.total, strings.Join(m.inactive, ", ")), Details: d}, nil
		}
		if m.total == 0 {
			return sdk.Health{Healthy: true, Message: "coordinator: no workers registered yet", Details: d}, nil
		}
		return sdk.Health{Healthy: true, Message: fmt.Sprintf("coordinator: %d workers active", m.total), Details: d}, nil
	default:
		return sdk.Health{Healthy: true, Message: p.state}, nil
	}
}
