package pgstatmonitor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// Name is the plugin's name: pgdock-plugin-pg-stat-monitor.
const Name = "pg-stat-monitor"

// application is the plugin's application_name in pg_stat_activity.
const application = "pgdock-pg-stat-monitor"

// Version is the plugin's own version.
const Version = "0.2.0"

// EnvPrefix is the plugin's namespace; PG_STAT_MONITOR_<SETTING> sets
// pg_stat_monitor.pgsm_<setting>.
const EnvPrefix = "PG_STAT_MONITOR_"

// Variables of the namespace that are not settings.
const (
	EnvEnable      = EnvPrefix + "ENABLE"       // read by the host
	EnvCrashPolicy = EnvPrefix + "CRASH_POLICY" // read by the host
	EnvDatabases   = EnvPrefix + "DATABASES"    // more databases to create the extension in
	EnvPostgresDB  = "POSTGRES_DB"
	EnvPostgresUsr = "POSTGRES_USER"
)

// Extension and Library are the extension's and its library's names.
const (
	Extension = "pg_stat_monitor"
	Library   = "pg_stat_monitor"
)

// Package is what to install; the host replaces <major>.
const Package = "percona-pg-stat-monitor<major> (Percona's apt repository, repo.percona.com/ppg-<major>; or postgresql-<major>-pg-stat-monitor from apt.postgresql.org; pgdock's image: build argument PG_STAT_MONITOR=true, docs/images.md)"

// Plugin is the pg-stat-monitor plugin.
type Plugin struct {
	sdk.Base
	log hclog.Logger
	// controlFile returns the path of pg_stat_monitor.control of the
	// installed PostgreSQL ("" when unknown).
	controlFile func() string
	extension   string // the extension created (tests use one that is installed)
}

var _ sdk.Plugin = (*Plugin)(nil)

// New returns the plugin; controlFile nil means the installed PostgreSQL's.
func New(log hclog.Logger, controlFile func() string) *Plugin {
	if controlFile == nil {
		controlFile = func() string { return ControlFile(exec.LookPath, "/usr") }
	}
	return &Plugin{log: log, controlFile: controlFile, extension: Extension}
}

// Main serves the plugin to the pgdock-entrypoint that started it.
func Main() {
	sdk.Serve(New(sdk.NewLogger(Name), nil))
}

// Describe declares the plugin.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:    Name,
		Version: Version,
		Env: []sdk.EnvVar{
			{Name: EnvPrefix, Prefix: true, Description: "PG_STAT_MONITOR_<SETTING> sets pg_stat_monitor.pgsm_<setting>"},
			{Name: EnvPostgresDB, Description: "the database the extension is created in"},
			{Name: EnvPostgresUsr, Description: "POSTGRES_DB's default"},
		},
		PreloadLibraries:   []sdk.PreloadLibrary{{Name: Library}},
		RequiredExtensions: []sdk.Requirement{{Name: Extension, Package: Package}},
	}, nil
}

// ControlFile finds pg_stat_monitor.control of the PostgreSQL whose
// postgres is in PATH, else of the newest one under root/lib/postgresql.
func ControlFile(lookPath func(string) (string, error), root string) string {
	major := ""
	if p, err := lookPath("postgres"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		major = filepath.Base(filepath.Dir(filepath.Dir(p)))
	} else {
		dirs, _ := filepath.Glob(filepath.Join(root, "lib", "postgresql", "*", "bin", "postgres"))
		best := -1
		for _, d := range dirs {
			m, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(d))))
			if err == nil && m > best {
				best, major = m, strconv.Itoa(m)
			}
		}
	}
	if major == "" {
		return ""
	}
	return filepath.Join(root, "share", "postgresql", major, "extension", Extension+".control")
}

var defaultVersion = regexp.MustCompile(`(?m)^\s*default_version\s*=\s*'([0-9]+)\.([0-9]+)`)

// InstalledVersion reads default_version from a control file; ok is false
// when the file is missing or says nothing usable.
func InstalledVersion(controlFile string) (v version, ok bool) {
	if controlFile == "" {
		return version{}, false
	}
	b, err := os.ReadFile(controlFile)
	if err != nil {
		return version{}, false
	}
	m := defaultVersion.FindSubmatch(b)
	if m == nil {
		return version{}, false
	}
	v.major, _ = strconv.Atoi(string(m[1]))
	v.minor, _ = strconv.Atoi(string(m[2]))
	return v, true
}

// newest is the version whose settings are checked when the installed one
// is unknown (the extension is missing: the host reports that).
var newest = version{2, 1}

// Config is the plugin's configuration.
type Config struct {
	Settings  []sdk.Setting // pg_stat_monitor.pgsm_*, sorted by name
	Databases []string      // POSTGRES_DB first, then PG_STAT_MONITOR_DATABASES
}

// Load maps PG_STAT_MONITOR_<SETTING> to pg_stat_monitor.pgsm_<setting>,
// checked against the settings the installed version has (the newest
// known when the version is unknown), and reports every problem.
func Load(env map[string]string, installed version, known bool) (Config, []sdk.Problem) {
	var c Config
	var problems []sdk.Problem
	v := installed
	if !known {
		v = newest
	} else if v.less(MinVersion) {
		problems = append(problems, sdk.Problem{Var: EnvEnable, Message: fmt.Sprintf(
			"pg_stat_monitor %s is installed; the plugin configures %s or later (install a newer %s)", v, MinVersion, Package)})
		return c, problems
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		suffix := strings.TrimPrefix(k, EnvPrefix)
		switch suffix {
		case "ENABLE", "CRASH_POLICY", "DATABASES":
			continue
		}
		name := strings.TrimPrefix(strings.ToLower(suffix), "pgsm_")
		s, ok := lookup(name)
		switch {
		case !ok || (known && installed.less(s.since)):
			which := "pg_stat_monitor " + v.String()
			if !known {
				which += " (the newest this plugin knows; the installed version is unknown)"
			}
			problems = append(problems, sdk.Problem{Var: k, Message: fmt.Sprintf(
				"%s has no setting pgsm_%s; its settings are %s%s", which, name, EnvPrefix, strings.Join(names(v), ", "+EnvPrefix))})
			continue
		case s.removed != "":
			problems = append(problems, sdk.Problem{Var: k, Message: s.removed})
			continue
		}
		val, err := s.check(env[k])
		if err != nil {
			problems = append(problems, sdk.Problem{Var: k, Message: "pg_stat_monitor.pgsm_" + name + ": " + err.Error()})
			continue
		}
		c.Settings = append(c.Settings, sdk.Setting{Name: "pg_stat_monitor.pgsm_" + name, Value: val})
	}
	db := strings.TrimSpace(env[EnvPostgresDB])
	if db == "" {
		db = strings.TrimSpace(env[EnvPostgresUsr])
	}
	if db == "" {
		db = "postgres"
	}
	c.Databases = []string{db}
	for _, d := range strings.Split(env[EnvDatabases], ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if len(d) > 63 || strings.ContainsRune(d, 0) {
			problems = append(problems, sdk.Problem{Var: EnvDatabases, Message: fmt.Sprintf("%q is not a database name (at most 63 bytes)", d)})
			continue
		}
		if !containsString(c.Databases, d) {
			c.Databases = append(c.Databases, d)
		}
	}
	return c, problems
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func (p *Plugin) load(env map[string]string) (Config, []sdk.Problem) {
	v, ok := InstalledVersion(p.controlFile())
	return Load(env, v, ok)
}

// Validate reports every problem of the PG_STAT_MONITOR_* variables.
func (p *Plugin) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	_, problems := p.load(env)
	return problems, nil
}

// Configure returns the pgsm_* settings.
func (p *Plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	c, problems := p.load(req.Env)
	if len(problems) > 0 {
		return sdk.Configuration{}, sdk.ProblemsError(problems)
	}
	return sdk.Configuration{Settings: c.Settings}, nil
}

// Bootstrap creates the extension in POSTGRES_DB and the configured
// databases (a missing one is an error: on first boot only POSTGRES_DB
// and init scripts' databases exist, and those come later).
func (p *Plugin) Bootstrap(ctx context.Context, req sdk.HookRequest) error {
	c, problems := p.load(req.Env)
	if len(problems) > 0 {
		return sdk.ProblemsError(problems)
	}
	return p.ensure(ctx, req.Conn, c.Databases[:1], false)
}

// Started creates the extension, idempotently, in every configured
// database that exists (databases created after the first boot); nothing
// on a replica, where the primary's extension arrives by replication.
func (p *Plugin) Started(ctx context.Context, req sdk.HookRequest) error {
	if req.Role == sdk.RoleReplica || req.Role == sdk.RoleNone {
		return nil
	}
	c, problems := p.load(req.Env)
	if len(problems) > 0 {
		return sdk.ProblemsError(problems)
	}
	return p.ensure(ctx, req.Conn, c.Databases, true)
}

// Queries the plugin issues.
const (
	// ExistingAmong lists the databases that exist among :'databases', a
	// JSON array of names (one psql variable, quoted by psql).
	ExistingAmong = "SELECT datname::text FROM pg_catalog.pg_database WHERE datname = ANY (ARRAY(SELECT pg_catalog.json_array_elements_text(:'databases'::json))) AND datallowconn"
)

// ensure creates the extension in dbs; with skipMissing, databases that do
// not exist (yet) are skipped with a log line, and a replica does nothing.
func (p *Plugin) ensure(ctx context.Context, c sdk.Conn, dbs []string, skipMissing bool) error {
	todo := dbs
	if skipMissing {
		maint := psql.Local(c, c.Database, application)
		replica, err := psql.InRecovery(ctx, maint)
		if err != nil {
			return fmt.Errorf("list databases: %w", err)
		}
		if replica {
			return nil
		}
		list, err := json.Marshal(append([]string{}, dbs...)) // [] rather than null
		if err != nil {
			return fmt.Errorf("list databases: %w", err)
		}
		rows, err := psql.Query(ctx, maint, ExistingAmong, psql.Vars{"databases": string(list)})
		if err != nil {
			return fmt.Errorf("list databases: %w", err)
		}
		var existing []string
		for _, r := range rows {
			if len(r) == 1 && r[0] != nil {
				existing = append(existing, *r[0])
			}
		}
		todo = nil
		for _, d := range dbs {
			if containsString(existing, d) {
				todo = append(todo, d)
			} else {
				p.log.Info("database does not exist (yet); the extension is created there at a later start", "database", d)
			}
		}
	}
	for _, db := range todo {
		if err := psql.Exec(ctx, psql.Local(c, db, application), psql.CreateExtension(p.extension), nil); err != nil {
			return fmt.Errorf("create extension %s in database %q: %w", p.extension, db, err)
		}
	}
	return nil
}
