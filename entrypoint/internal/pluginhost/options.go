package pluginhost

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// Defaults for Options.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultHookTimeout  = 30 * time.Second
	DefaultStopGrace    = 2 * time.Second
	// ChecksumFile is the checksum list in the plugin directory, in
	// sha256sum format ("<hex>  <file name>").
	ChecksumFile = "SHA256SUMS"
	// BinaryPrefix prefixes every plugin binary: pgdock-plugin-<name>.
	BinaryPrefix = "pgdock-plugin-"
	// MaxSocketDirLen keeps plugin socket paths (SocketDir plus about 40
	// characters that go-plugin adds) under the 108-byte unix socket limit.
	MaxSocketDirLen = 64
	// EnvCrashPolicy sets the crash policy of every plugin;
	// <NAME>_CRASH_POLICY overrides it for one plugin.
	EnvCrashPolicy = "PGDOCK_PLUGIN_CRASH_POLICY"
)

// CrashPolicy says what the entrypoint does when a plugin exits while it
// should be running. The Manager only reports the crash (CrashEvent.Policy);
// the entrypoint's lifecycle loop acts on it.
type CrashPolicy string

const (
	// CrashFail (the default): stop PostgreSQL the normal way (stopping
	// hooks, shutdown within TIMEOUT) and exit non-zero, so that the
	// orchestrator restarts the container with all plugins.
	CrashFail CrashPolicy = "fail"
	// CrashContinue: log the crash and keep PostgreSQL running without the
	// plugin. The plugin stays in the state file, so the healthcheck reports
	// it (and the container) unhealthy until the next restart.
	CrashContinue CrashPolicy = "continue"
)

// ParseCrashPolicy accepts "fail" or "continue" (any case).
func ParseCrashPolicy(s string) (CrashPolicy, error) {
	switch p := CrashPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case CrashFail, CrashContinue:
		return p, nil
	}
	return "", fmt.Errorf("crash policy %q is not one of fail, continue", s)
}

// Options configures Start.
type Options struct {
	// Dir is PGDOCK_PLUGIN_DIR: binaries named pgdock-plugin-<name> and the
	// checksum list SHA256SUMS. Start refuses it unless the directory, the
	// enabled binaries and SHA256SUMS are real files (not symbolic links)
	// owned by root (or one of TrustUIDs) and writable by nobody else.
	Dir string
	// TrustUIDs are uids besides root that may own the plugin directory and
	// its files: the uid pgdock-entrypoint was started as, when not root.
	// Never the uid privileges were dropped to (postgres): that user must
	// not be able to change what runs.
	TrustUIDs []int
	// Env is the full resolved environment (after _FILE and alias
	// resolution). Plugins see only the part they declare.
	Env map[string]string
	// SocketDir is where plugin unix sockets are created
	// (<PGDOCK_STATE_DIR>/plugins); created with mode 0750 when missing.
	// Empty means the system temporary directory.
	SocketDir string
	// Logger receives the Manager's and the plugins' log lines. Nil means
	// no logging.
	Logger *zap.Logger
	// StartTimeout bounds each plugin's handshake; default 10s.
	StartTimeout time.Duration
	// HookTimeout bounds each hook call except Bootstrap (which only
	// follows the caller's context); default 30s.
	HookTimeout time.Duration
	// StopGrace is how long Stop lets a plugin exit on its own before
	// killing its process group; default 2s.
	StopGrace time.Duration
	// CrashPolicy is the default policy; PGDOCK_PLUGIN_CRASH_POLICY in Env
	// and then <NAME>_CRASH_POLICY override it. Empty means CrashFail.
	CrashPolicy CrashPolicy
	// ExtensionDir is PostgreSQL's extension directory (e.g.
	// /usr/share/postgresql/15/extension) used to check required
	// extensions; empty skips that check.
	ExtensionDir string
	// LibDir is PostgreSQL's library directory (e.g.
	// /usr/lib/postgresql/15/lib) used to check that the libraries of
	// required extensions that plugins preload are installed; empty skips
	// that check.
	LibDir string
	// LogLevel is passed to plugins (PGDOCK_PLUGIN_LOG_LEVEL); empty means
	// derived from Logger.
	LogLevel string
	// afterVerify, for tests only, runs after every binary was verified and
	// before any is started.
	afterVerify func()
	// Reaper starts the plugin processes and collects their exit statuses:
	// the entrypoint's one reaper, which owns every wait of the process. Nil
	// (only for programs that run no reaper, such as tests) waits for each
	// plugin directly.
	Reaper *reaper.Reaper
}

func (o Options) withDefaults() Options {
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.StopGrace <= 0 {
		o.StopGrace = DefaultStopGrace
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Env == nil {
		o.Env = map[string]string{}
	}
	if o.LogLevel == "" {
		o.LogLevel = levelName(o.Logger)
	}
	return o
}

func levelName(l *zap.Logger) string {
	for _, lv := range []zapcore.Level{zapcore.DebugLevel, zapcore.InfoLevel, zapcore.WarnLevel} {
		if l.Core().Enabled(lv) {
			return lv.String()
		}
	}
	return "error"
}

// crashPolicyFor resolves the policy of one plugin: <NAME>_CRASH_POLICY,
// then PGDOCK_PLUGIN_CRASH_POLICY, then Options.CrashPolicy, then CrashFail.
// A bad value is returned as a problem and overrides nothing.
func crashPolicyFor(name string, env map[string]string, def CrashPolicy) (CrashPolicy, []Problem) {
	policy := def
	if policy == "" {
		policy = CrashFail
	}
	var problems []Problem
	// In increasing order of precedence.
	for _, v := range []string{EnvCrashPolicy, envName(name, "CRASH_POLICY")} {
		raw := env[v]
		if raw == "" {
			continue
		}
		p, err := ParseCrashPolicy(raw)
		if err != nil {
			problems = append(problems, Problem{Plugin: name, Var: v, Message: err.Error()})
			continue
		}
		policy = p
	}
	return policy, problems
}
