package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
)

// keywordSets are the accepted values of the keyword variables, in the order
// messages list them.
var keywordSets = map[string]map[string]int{
	"SHUTDOWN_MODE": {"smart": 0, "fast": 1, "immediate": 2},
	"LOG_LEVEL":     {"debug": 0, "info": 1, "warn": 2, "error": 3},
	"LOG_FORMAT":    {"text": 0, "json": 1},
}

const (
	// maxSocketPath is the longest Unix socket path (sizeof(sun_path) - 1).
	maxSocketPath = 107
	// maxTimeoutSeconds bounds TIMEOUT to a day.
	maxTimeoutSeconds = 86400

	// hostRulePrefix starts the rule POSTGRES_HOST_AUTH_METHOD completes.
	hostRulePrefix = "host all all all "

	portMessage    = "must be an integer between 1 and 65535"
	timeoutMessage = "must be a whole number of seconds between 1 and 86400 (e.g. 30)"
)

// Validate re-checks the invariants of a built Config. It returns a
// *ValidationError listing every problem, or nil.
func (c Config) Validate() error {
	if ps := c.problems(func(s string) string { return s }); len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

// checker collects problems, naming each variable through name (which maps
// a current name to the legacy alias the user set).
type checker struct {
	name     func(string) string
	problems []Problem
}

func (k *checker) add(v, value, msg string) {
	shown := k.name(v)
	dv := displayValue(v, value)
	if dv != Mask {
		dv = displayValue(shown, value)
	}
	k.problems = append(k.problems, Problem{Var: shown, Value: dv, Message: msg})
}

func (k *checker) path(v, p string, required bool) {
	if p == "" {
		if required {
			k.add(v, p, "must not be empty")
		}
		return
	}
	if msg := pathProblem(p); msg != "" {
		k.add(v, p, msg)
	}
}

// ownDirExamples are the directories suggested instead of a system one.
var ownDirExamples = map[string]string{
	"PGDATA":                 DefaultPGData,
	"POSTGRES_INITDB_WALDIR": "/var/lib/postgresql/wal",
	"PGDOCK_STATE_DIR":       DefaultStateDir,
}

// ownDir checks a directory pgdock creates and takes ownership of: a
// clean absolute path that is not a system or shared directory.
func (k *checker) ownDir(v, p string, required bool) {
	if msg := systemDirProblem(p, false, ownDirExamples[v]); msg != "" {
		k.add(v, p, msg)
		return
	}
	k.path(v, p, required)
}

func pathProblem(p string) string {
	if strings.ContainsAny(p, "\n\r\x00") {
		return "must not contain a newline, carriage return or NUL character"
	}
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return "must be an absolute path without . or .. elements (e.g. /var/lib/postgresql/data)"
	}
	return ""
}

func (k *checker) keyword(v, value string) {
	set := keywordSets[v]
	if _, ok := set[value]; ok {
		return
	}
	names := make([]string, len(set))
	for n, i := range set {
		names[i] = n
	}
	k.add(v, value, "must be one of "+strings.Join(names, ", "))
}

func (c Config) problems(name func(string) string) []Problem {
	k := &checker{name: name}
	if c.User == "" {
		k.add("POSTGRES_USER", c.User, "must not be empty")
	} else if strings.ContainsAny(c.User, "\"$'\\\x00\n\r") {
		// PostgreSQL refuses such a bootstrap superuser name (initdb fails
		// part-way, and older initdb versions echoed the password in the error).
		k.add("POSTGRES_USER", c.User, `must not contain " $ ' \ or a line break (PostgreSQL refuses such a bootstrap superuser name)`)
	}
	if c.DB == "" {
		k.add("POSTGRES_DB", c.DB, "must not be empty")
	}
	k.ownDir("PGDATA", c.PGData, true)
	k.ownDir("POSTGRES_INITDB_WALDIR", c.InitdbWaldir, false)
	if w := c.InitdbWaldir; w != "" && c.PGData != "" && (w == c.PGData || strings.HasPrefix(w, strings.TrimSuffix(c.PGData, "/")+"/")) {
		k.add("POSTGRES_INITDB_WALDIR", w, "must be outside PGDATA (initdb needs an empty data directory)")
	}
	if c.Port < 1 || c.Port > 65535 {
		k.add("PGPORT", strconv.Itoa(c.Port), portMessage)
	}
	if _, err := pgconf.ParseHBARule(hostRulePrefix + c.HostAuthMethod); err != nil {
		k.add("POSTGRES_HOST_AUTH_METHOD", c.HostAuthMethod, fmt.Sprintf("not usable in the rule `host all all all <method>`: %v", err))
	}
	k.path("PGCONFIG", c.ConfigDir, true)
	k.path(configFileVar, c.ConfigFile, false)
	c.checkSettings(k)
	c.checkHBA(k)
	c.checkTLS(k)
	c.checkSockets(k)
	if c.Timeout < time.Second || c.Timeout > maxTimeoutSeconds*time.Second {
		k.add("TIMEOUT", strconv.FormatInt(int64(c.Timeout/time.Second), 10), timeoutMessage)
	}
	k.keyword("SHUTDOWN_MODE", c.ShutdownMode)
	k.keyword("LOG_LEVEL", c.LogLevel)
	k.keyword("LOG_FORMAT", c.LogFormat)
	k.path("PGDOCK_PLUGIN_DIR", c.PluginDir, true)
	k.ownDir("PGDOCK_STATE_DIR", c.StateDir, true)
	c.checkCrashPolicies(k)
	k.path("PGDOCK_INITDB_DIR", c.InitDir, true)
	return k.problems
}

func (c Config) checkSettings(k *checker) {
	seen := map[string]string{}
	for _, s := range c.Settings {
		if err := pgconf.ValidateName(s.Name); err != nil {
			msg := err.Error()
			if strings.HasPrefix(s.Source, settingPrefix) {
				msg += " (the parameter is the part after POSTGRESQL_CONFIG_, lower-cased, with __ standing for a dot)"
			}
			k.add(s.Source, s.Value, msg)
			continue
		}
		if use, ok := reservedGUCs[s.Name]; ok {
			k.add(s.Source, s.Value, fmt.Sprintf("sets %s, which pgdock manages; use %s instead", s.Name, use))
			continue
		}
		if _, err := pgconf.QuoteValue(s.Value); err != nil {
			k.add(s.Source, s.Value, "must not contain a newline, carriage return or NUL character")
			continue
		}
		if prev, dup := seen[s.Name]; dup {
			k.add(s.Source, s.Value, fmt.Sprintf("sets %s, which %s also sets; set only one of them", s.Name, k.name(prev)))
			continue
		}
		seen[s.Name] = s.Source
	}
}

func (c Config) checkHBA(k *checker) {
	for i, r := range c.HBARules {
		if r.Index < 0 {
			k.add(r.Source, r.Line, "the rule number must be a non-negative integer")
		}
		if i > 0 && r.Index < c.HBARules[i-1].Index {
			k.add(r.Source, r.Line, "rules must be in ascending order of their number")
		}
		if _, err := pgconf.ParseHBARule(r.Line); err != nil {
			k.add(r.Source, r.Line, hbaMessage(r.Source, r.Line, err))
		}
	}
}

func (c Config) checkTLS(k *checker) {
	t := c.TLS
	k.path("POSTGRESQL_TLS_CERT_FILE", t.CertFile, false)
	k.path("POSTGRESQL_TLS_KEY_FILE", t.KeyFile, false)
	k.path("POSTGRESQL_TLS_CA_FILE", t.CAFile, false)
	switch {
	case t.CertFile != "" && t.KeyFile == "":
		k.add("POSTGRESQL_TLS_CERT_FILE", t.CertFile, "needs POSTGRESQL_TLS_KEY_FILE too (set both or neither)")
	case t.CertFile == "" && t.KeyFile != "":
		k.add("POSTGRESQL_TLS_KEY_FILE", t.KeyFile, "needs POSTGRESQL_TLS_CERT_FILE too (set both or neither)")
	}
	if t.CAFile != "" && t.CertFile == "" {
		k.add("POSTGRESQL_TLS_CA_FILE", t.CAFile, "needs POSTGRESQL_TLS_CERT_FILE and POSTGRESQL_TLS_KEY_FILE (a CA file only verifies client certificates of a TLS server)")
	}
}

func (c Config) checkSockets(k *checker) {
	const v = "POSTGRESQL_UNIX_SOCKET_DIRECTORIES"
	all := strings.Join(c.SocketDirs, ",")
	if len(c.SocketDirs) == 0 {
		k.add(v, all, "must name at least one directory")
		return
	}
	if c.SocketDir != c.SocketDirs[0] {
		k.add(v, all, "the first directory must be the one pgdock connects through (SocketDir)")
	}
	suffix := len("/.s.PGSQL.") + len(strconv.Itoa(c.Port))
	for i, d := range c.SocketDirs {
		switch {
		case d == "":
			k.add(v, all, "must be a comma-separated list of absolute directories, without empty entries")
		case systemDirProblem(d, true, DefaultSocketDir) != "":
			k.add(v, all, fmt.Sprintf("directory %q: %s (or a shared sticky directory such as /tmp, which pgdock leaves as it is)", d, systemDirProblem(d, true, DefaultSocketDir)))
		case strings.Contains(d, `"`):
			k.add(v, all, fmt.Sprintf("directory %q must not contain a double quote", d))
		case pathProblem(d) != "":
			k.add(v, all, fmt.Sprintf("directory %q %s", d, pathProblem(d)))
		case len(d)+suffix > maxSocketPath:
			k.add(v, all, fmt.Sprintf("directory %q is too long: the socket path %s/.s.PGSQL.%d must fit in %d bytes", d, d, c.Port, maxSocketPath))
		case slices.Contains(c.SocketDirs[:i], d):
			k.add(v, all, fmt.Sprintf("directory %q is listed twice", d))
		}
	}
}

// checkCrashPolicies validates PGDOCK_PLUGIN_CRASH_POLICY and every
// <NAME>_CRASH_POLICY (fail or continue, any case), whether or not the
// plugin is enabled, so `config validate` catches a typo early.
func (c Config) checkCrashPolicies(k *checker) {
	names := make([]string, 0)
	for name := range c.Env {
		if strings.HasSuffix(name, "_CRASH_POLICY") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		switch strings.ToLower(strings.TrimSpace(c.Env[name])) {
		case "", "fail", "continue":
		default:
			k.add(name, c.Env[name], "must be fail or continue")
		}
	}
}
