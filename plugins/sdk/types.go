package sdk

import (
	"os"
	"strings"
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
}

// Health is a plugin's answer to a health probe.
type Health struct {
	Healthy bool
	Message string
	Details map[string]string
}

// ModeCommandRequest is the input of ModeCommand.
type ModeCommandRequest struct {
	Env    map[string]string // declared variables only
	Server Server
}

// Command is the process a mode provider asks the host to run and supervise.
type Command struct {
	Argv       []string          // argv[0] is a path or a name looked up in PATH
	Env        map[string]string // the child's complete environment
	Dir        string            // working directory; empty = host's choice
	StopSignal string            // e.g. "SIGTERM" (default) or "SIGINT"
}

// EnvPrefix returns the environment namespace of a plugin: its name upper
// cased with '-' replaced by '_', plus a trailing '_' ("pg-stat-monitor" →
// "PG_STAT_MONITOR_"). <prefix>ENABLE switches the plugin on.
func EnvPrefix(pluginName string) string {
	return strings.ToUpper(strings.ReplaceAll(pluginName, "-", "_")) + "_"
}
