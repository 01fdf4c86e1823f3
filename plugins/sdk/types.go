package sdk

import (
	"errors"
	"os"
	"strings"
	"time"
)

// PreloadFirst is the order of a library that must be loaded before every
// other one (citus). Two plugins both asking to load first is a conflict the
// host reports at validation.
const PreloadFirst = -1000

// EnvVar declares an environment variable, or a whole prefix, a plugin reads.
type EnvVar struct {
	Name        string // exact name, or the prefix when Prefix is true (e.g. "EXAMPLE_")
	Prefix      bool   // Name is a prefix
	Secret      bool   // values are masked in logs and error messages
	Description string // one line, for documentation
}

// Matches reports whether the variable name is covered by this declaration.
func (e EnvVar) Matches(name string) bool {
	if e.Prefix {
		return strings.HasPrefix(name, e.Name)
	}
	return name == e.Name
}

// Setting is one PostgreSQL parameter (GUC).
type Setting struct {
	Name  string
	Value string
}

// PreloadLibrary is one entry of shared_preload_libraries. Lower Order loads
// first; 0 is the neutral default, PreloadFirst means "before everything".
type PreloadLibrary struct {
	Name  string
	Order int
}

// Requirement is a program or extension a plugin needs, with the Debian
// package that provides it (named in the error when it is missing).
type Requirement struct {
	Name    string
	Package string
}

// Description is what a plugin says about itself in Describe. It must not
// depend on the environment: Describe is called before the host knows which
// variables the plugin may see.
type Description struct {
	Name               string // must equal <name> in the binary name pgdock-plugin-<name>
	Version            string // the plugin's own version
	Env                []EnvVar
	Settings           []Setting // static settings the plugin always needs
	PreloadLibraries   []PreloadLibrary
	RequiredBinaries   []Requirement
	RequiredExtensions []Requirement
	ProvidesMode       string // empty, or the run mode it provides (e.g. "patroni")
	// After names the plugins whose hooks run before this plugin's
	// (dependency order). Unknown or disabled names are ignored; a cycle is
	// a validation error.
	After []string
	// ProvidesBootstrap says the plugin may replace initdb on first boot
	// (see BootstrapProvider); Configuration.WantsBootstrap asks for it.
	ProvidesBootstrap bool
}

// Declares reports whether the plugin declared the variable name.
func (d Description) Declares(name string) bool {
	for _, e := range d.Env {
		if e.Matches(name) {
			return true
		}
	}
	return false
}

// IsSecret reports whether a declaration covering name flags it as secret.
func (d Description) IsSecret(name string) bool {
	for _, e := range d.Env {
		if e.Secret && e.Matches(name) {
			return true
		}
	}
	return false
}

// FilterEnv returns the subset of env the plugin declared. The host passes
// only this subset to the plugin's hooks.
func (d Description) FilterEnv(env map[string]string) map[string]string {
	out := make(map[string]string)
	for k, v := range env {
		if d.Declares(k) {
			out[k] = v
		}
	}
	return out
}

// Problem is one validation finding about the plugin's configuration.
type Problem struct {
	Var     string // environment variable at fault; may be empty
	Message string
}

// ProblemsError joins problems into one error, "VAR: message; …" (a
// problem without a variable is its message alone), for a hook that meets
// the problems Validate already reported; nil when there are none.
func ProblemsError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	parts := make([]string, 0, len(problems))
	for _, pr := range problems {
		if pr.Var == "" {
			parts = append(parts, pr.Message)
			continue
		}
		parts = append(parts, pr.Var+": "+pr.Message)
	}
	return errors.New(strings.Join(parts, "; "))
}

// Server describes the PostgreSQL instance to Configure and ModeCommand.
type Server struct {
	PGData    string
	Port      int
	SocketDir string
	Superuser string // superuser role name (POSTGRES_USER)
	Database  string // POSTGRES_DB
	FirstBoot bool
	// FilesDir is the directory the host writes this plugin's files into;
	// File.Path is relative to it.
	FilesDir string
}

// ConfigureRequest is the input of Configure.
type ConfigureRequest struct {
	Env    map[string]string // declared variables only
	Server Server
}

// File is a file the host writes for the plugin.
type File struct {
	Path    string      // relative to Server.FilesDir, no ".."
	Content []byte      // written as is
	Mode    os.FileMode // permission bits; 0 means 0600; world access is refused
}

// Configuration is the output of Configure.
type Configuration struct {
	Settings []Setting
	HBARules []string // complete pg_hba.conf lines
	Files    []File
	// Sections are configuration sections contributed to another plugin
	// (a mode provider), e.g. citus's "citus" section for patroni.
	Sections []Section
	// Jobs are commands the host runs on a schedule.
	Jobs []Job
	// WantsBootstrap (only for a ProvidesBootstrap plugin) asks the host to
	// call BootstrapProvide instead of running initdb on this first boot.
	// On a later boot (Server.FirstBoot false) it asks the host to move the
	// existing PGDATA aside and provide a new cluster (a forced restore).
	WantsBootstrap bool
}

// Section is a configuration section contributed to another plugin.
type Section struct {
	Target  string // plugin name, e.g. "patroni"
	Name    string // e.g. "citus"
	Content []byte // a JSON object
}

// Job is a command the host runs on a schedule, as the server user, in its
// own process group, one run at a time.
type Job struct {
	Name string
	Argv []string
	Env  map[string]string // the job's complete environment
	// Schedule is a cron expression: 5 fields (robfig/cron/v3 standard
	// parser) or a descriptor such as "@daily" or "@every 1h". Empty: the
	// job runs only on demand (`pgdock-entrypoint hook run-job`).
	Schedule       string
	PrimaryOnly    bool // run only while the node is the primary
	TimeoutSeconds int  // 0 = no limit besides shutdown
}

// JobResult is the outcome of a job's last (or current) run.
type JobResult struct {
	Name     string
	Started  time.Time // zero when it never ran
	Finished time.Time // zero while running
	ExitCode int
	Error    string
	Running  bool
}

// HealthRequest is the input of a health probe. Jobs holds the last result
// of each of the plugin's jobs (empty when the caller does not know them,
// e.g. pgdock-healthcheck's direct probe).
type HealthRequest struct {
	Jobs map[string]JobResult
}

// Role is the node's replication role.
type Role int

// Roles. RoleUnspecified is the zero value: unknown.
const (
	RoleUnspecified Role = iota
	RoleNone             // not serving
	RolePrimary
	RoleReplica
)

// String returns "unspecified", "none", "primary" or "replica".
func (r Role) String() string {
	switch r {
	case RoleNone:
		return "none"
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	default:
		return "unspecified"
	}
}

// ParseRole is the inverse of Role.String; unknown text is RoleUnspecified.
func ParseRole(s string) Role {
	switch s {
	case "none":
		return RoleNone
	case "primary":
		return RolePrimary
	case "replica":
		return RoleReplica
	default:
		return RoleUnspecified
	}
}

// MergedConfig is the final configuration the host would render in direct
// mode (env and every plugin merged), given to a mode provider.
type MergedConfig struct {
	Settings         []Setting // every managed GUC, final values
	PreloadLibraries []string  // final ordered list
	HBARules         []string  // final ordered rules as the host writes them
	Sections         []Section // sections targeting this provider
}

// ModeStatus is a mode provider's answer to the host's status poll.
type ModeStatus struct {
	Role          Role
	PostmasterPID int // 0 = none running
	Ready         bool
	Message       string
}

// RoleChange is the input of RoleChanged.
type RoleChange struct {
	Role     Role
	Previous Role
	Env      map[string]string // declared variables only
	Conn     Conn
}

// BootstrapProvideRequest is the input of BootstrapProvide.
type BootstrapProvideRequest struct {
	Env    map[string]string // declared variables only
	Server Server
}

// BootstrapCommand is the command a bootstrap provider asks the host to run
// instead of initdb.
type BootstrapCommand struct {
	Argv   []string
	Env    map[string]string // the command's complete environment
	Marker string            // free text recorded in the bootstrap marker
}

// Conn tells a plugin how to reach the running server over its unix socket.
type Conn struct {
	SocketDir string
	Port      int
	User      string // role to connect as (the superuser)
	Database  string // database to connect to; never POSTGRES_DB unless the plugin must work there
	PGData    string
}

// HookRequest is the input of Bootstrap and Started.
type HookRequest struct {
	Env  map[string]string // declared variables only
	Conn Conn
	Role Role // Started only: the node's role when the server became ready
}

// Health is a plugin's answer to a health probe. Healthy false makes the
// node unready (pgdock-healthcheck readiness fails): use it for what stops
// the node from serving. Degraded with Healthy true is "serving, but
// something needs attention" (a backup older than its schedule, failing WAL
// archiving): readiness passes and reports it, `--strict` fails on it.
type Health struct {
	Healthy  bool
	Degraded bool
	Message  string
	Details  map[string]string
}

// ModeCommandRequest is the input of ModeCommand.
type ModeCommandRequest struct {
	Env    map[string]string // declared variables only
	Server Server
	Merged MergedConfig // the configuration the host would render in direct mode
}

// Command is the process a mode provider asks the host to run and supervise.
type Command struct {
	Argv       []string          // argv[0] is a path or a name looked up in PATH
	Env        map[string]string // the child's complete environment
	Dir        string            // working directory; empty = host's choice
	StopSignal string            // e.g. "SIGTERM" (default) or "SIGINT"
	// OwnsBootstrap: the child creates the cluster itself; the host runs no
	// initdb and no temporary server, and runs the first-boot steps when
	// the child calls `pgdock-entrypoint hook post-bootstrap`.
	OwnsBootstrap bool
	// Files are written by the host into the plugin's files directory
	// (Server.FilesDir) before it starts the child, with Configuration.Files'
	// rules: relative paths without "..", 0600 when Mode is 0, never
	// world-accessible. Use it for a configuration made from the merged
	// configuration (Patroni's patroni.yml).
	Files []File
}

// EnvPrefix returns the environment namespace of a plugin: its name upper
// cased with '-' replaced by '_', plus a trailing '_' ("pg-stat-monitor" →
// "PG_STAT_MONITOR_"). <prefix>ENABLE switches the plugin on.
func EnvPrefix(pluginName string) string {
	return strings.ToUpper(strings.ReplaceAll(pluginName, "-", "_")) + "_"
}
