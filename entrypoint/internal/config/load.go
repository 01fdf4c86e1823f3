package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
)

// Load resolves the environment into a Config. env is the process environment as a map;
// readFile reads _FILE secrets (injected for tests; nil means ReadSecretFile,
// which refuses FIFOs, devices and files over MaxSecretBytes without hanging).
// It reports EVERY problem at once: the returned error is a *ValidationError when validation fails.
//
// An empty variable counts as unset, as in the official image. On error the
// returned Config is empty except for Warnings, which are still worth logging.
func Load(env map[string]string, readFile func(string) ([]byte, error)) (Config, error) {
	if readFile == nil {
		readFile = ReadSecretFile
	}
	l := &loader{
		env:      maps.Clone(env),
		readFile: readFile,
		origin:   map[string]string{},
		fromFile: map[string]string{},
		reported: map[string]bool{},
	}
	if l.env == nil {
		l.env = map[string]string{}
	}
	l.resolveFiles()
	l.applyAliases()
	l.warnNoEffect()
	c := l.build()
	for _, p := range c.problems(l.display) {
		if !l.reported[p.Var] {
			l.problems = append(l.problems, p)
		}
	}
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool { return l.problems[i].Var < l.problems[j].Var })
		return Config{Warnings: l.warnings}, &ValidationError{Problems: l.problems}
	}
	c.Warnings = l.warnings
	return c, nil
}

// loader holds the state of one Load call.
type loader struct {
	env      map[string]string
	readFile func(string) ([]byte, error)
	problems []Problem
	warnings []string
	origin   map[string]string // new name → legacy name its value came from
	fromFile map[string]string // name → NAME_FILE its value was read from
	reported map[string]bool   // displayed names that already have a problem
}

// get returns a variable's value; empty counts as unset.
func (l *loader) get(name string) (string, bool) {
	v := l.env[name]
	return v, v != ""
}

// display is the name to show for a variable: the legacy name when the user
// set the value through an alias.
func (l *loader) display(name string) string {
	if o, ok := l.origin[name]; ok {
		return o
	}
	return name
}

func (l *loader) problem(name, value, msg string) {
	shown := l.display(name)
	v := displayValue(name, value)
	if v != Mask {
		v = displayValue(shown, value)
	}
	l.problems = append(l.problems, Problem{Var: shown, Value: v, Message: msg})
	l.reported[shown] = true
}

func (l *loader) warn(msg string) { l.warnings = append(l.warnings, msg) }

func (l *loader) keysWithPrefix(prefix string) []string {
	var keys []string
	for k := range l.env {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// build converts every variable into its field. Conversion problems
// (numbers, booleans, word splitting, rules) are reported here; the
// invariants of the result are checked by Config.problems.
func (l *loader) build() Config {
	c := Defaults()
	c.Env = l.env

	c.Password, _ = l.get("POSTGRES_PASSWORD")
	if v, ok := l.get("POSTGRES_USER"); ok {
		c.User = v
	}
	c.DB = c.User
	if v, ok := l.get("POSTGRES_DB"); ok {
		c.DB = v
	}
	if v, ok := l.get("POSTGRES_INITDB_ARGS"); ok {
		c.InitdbArgs = l.words("POSTGRES_INITDB_ARGS", v)
	}
	c.InitdbWaldir = l.path("POSTGRES_INITDB_WALDIR", "")
	c.PGData = l.path("PGDATA", DefaultPGData)
	c.Port = l.integer("PGPORT", DefaultPort, 1, 65535, portMessage)
	c.ConfigDir = l.path("PGCONFIG", DefaultConfigDir)
	c.ConfigFile = l.path(configFileVar, "")
	c.Settings = l.settings()
	c.HostAuthMethod = DefaultHostAuthMethod
	if v, ok := l.get("POSTGRES_HOST_AUTH_METHOD"); ok {
		c.HostAuthMethod = hostAuthMethod(v)
	} else if md5Configured(c.Settings) {
		c.HostAuthMethod = "md5"
	}
	c.HBARules = l.hbaRules()
	c.TLS = TLS{
		CertFile: l.path("POSTGRESQL_TLS_CERT_FILE", ""),
		KeyFile:  l.path("POSTGRESQL_TLS_KEY_FILE", ""),
		CAFile:   l.path("POSTGRESQL_TLS_CA_FILE", ""),
	}
	if v, ok := l.get("POSTGRESQL_UNIX_SOCKET_DIRECTORIES"); ok {
		c.SocketDirs = nil
		for _, d := range strings.Split(v, ",") {
			c.SocketDirs = append(c.SocketDirs, cleanPath(strings.TrimSpace(d)))
		}
		c.SocketDir = c.SocketDirs[0]
	}
	c.SleepMode = l.boolean("SLEEP_MODE", false)
	c.ExternalAccess = l.boolean("EXTERNAL_ACCESS_ENABLE", true)
	c.Timeout = time.Duration(l.integer("TIMEOUT", int(DefaultTimeout/time.Second), 1, maxTimeoutSeconds, timeoutMessage)) * time.Second
	c.ShutdownMode = l.keyword("SHUTDOWN_MODE", DefaultShutdownMode, nil)
	c.LogLevel = l.keyword("LOG_LEVEL", DefaultLogLevel, map[string]string{"warning": "warn"})
	c.LogFormat = l.keyword("LOG_FORMAT", DefaultLogFormat, nil)
	c.PluginDir = l.path("PGDOCK_PLUGIN_DIR", DefaultPluginDir)
	c.StateDir = l.path("PGDOCK_STATE_DIR", DefaultStateDir)
	c.InitDir = l.path("PGDOCK_INITDB_DIR", DefaultInitDir)

	if c.ExternalAccess && c.HostAuthMethod == "trust" {
		l.warn(fmt.Sprintf("%s=trust: connections from any host are accepted without a password; use it only for throwaway databases", l.display("POSTGRES_HOST_AUTH_METHOD")))
	}
	return c
}

// words splits POSTGRES_INITDB_ARGS like a shell would, without variable
// expansion or command substitution.
func (l *loader) words(name, v string) []string {
	p := shellwords.NewParser()
	p.ParseEnv, p.ParseBacktick = false, false
	args, err := p.Parse(v)
	switch {
	case err != nil:
		l.problem(name, v, "cannot split into arguments (unbalanced quotes, parentheses or backticks); quote like in a shell: --locale-provider=icu '--icu-locale=de-DE'")
		return nil
	case p.Position >= 0:
		l.problem(name, v, "shell operators (; & | < >) are not supported; quote them if they belong to an argument")
		return nil
	}
	return args
}

func (l *loader) path(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	return cleanPath(v)
}

// cleanPath removes trailing and doubled slashes from an absolute path
// without . or .. elements; anything else is returned as given, for Validate
// to report.
func cleanPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	for _, e := range strings.Split(p, "/") {
		if e == "." || e == ".." {
			return p
		}
	}
	return filepath.Clean(p)
}

// integer reads a whole number between lo and hi.
func (l *loader) integer(name string, def, lo, hi int, msg string) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	t := strings.TrimSpace(v)
	n, err := strconv.Atoi(t)
	if err != nil || !isDigits(t) || n < lo || n > hi {
		l.problem(name, v, msg)
		return def
	}
	return n
}

func (l *loader) boolean(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	b, err := ParseBool(v)
	if err != nil {
		l.problem(name, v, err.Error())
		return def
	}
	return b
}

// keyword lower-cases a value (mapping synonyms); membership is checked by
// Validate, which then shows the value as given.
func (l *loader) keyword(name, def string, synonyms map[string]string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	k := strings.ToLower(strings.TrimSpace(v))
	if s, ok := synonyms[k]; ok {
		k = s
	}
	if _, known := keywordSets[name][k]; known {
		return k
	}
	return v
}

// hostAuthMethod returns the method (and options) in the canonical form
// pgconf writes, or the value as given when it is invalid, for Validate to
// report.
func hostAuthMethod(v string) string {
	r, err := pgconf.ParseHBARule(hostRulePrefix + v)
	if err != nil {
		return v
	}
	return strings.TrimPrefix(r.String(), hostRulePrefix)
}

// md5Configured reports whether a setting selects password_encryption=md5,
// the case in which the official image defaults the host rule to md5.
func md5Configured(settings []Setting) bool {
	for _, s := range settings {
		if s.Name == "password_encryption" && strings.EqualFold(strings.TrimSpace(s.Value), "md5") {
			return true
		}
	}
	return false
}
