package gucheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
)

// Param is one setting to check.
type Param struct{ Name, Value string }

// Problem is a setting the server refuses: Name as given, Message in
// PostgreSQL's words (with its DETAIL and HINT lines).
type Problem struct{ Name, Message string }

// Timeout bounds one check; `postgres -C` normally takes a few milliseconds.
const Timeout = 15 * time.Second

// Checker checks settings against one postgres binary. The zero value is
// not usable; use New. It caches the server's parameter names (for
// suggestions) for its lifetime, so one run asks for them at most once.
type Checker struct {
	postgres string
	names    []string // from --describe-config, loaded on first need
}

// New returns a Checker for the postgres binary at path.
func New(postgres string) *Checker { return &Checker{postgres: postgres} }

// Check returns the problems PostgreSQL finds in params, or an error when
// the check itself could not run. Names must already be syntactically valid
// (pgconf.ValidateName) and values representable (pgconf.QuoteValue).
func (c *Checker) Check(ctx context.Context, params []Param) ([]Problem, error) {
	if len(params) == 0 {
		return nil, nil
	}
	probs, unknown, err := c.run(ctx, params)
	if err != nil || len(unknown) == 0 {
		return probs, err
	}
	// PostgreSQL stops at unknown names before it looks at any value: check
	// the values of the known ones too, so every problem shows at once.
	var known []Param
	for _, p := range params {
		if !unknown[strings.ToLower(p.Name)] {
			known = append(known, p)
		}
	}
	if len(known) > 0 {
		more, _, err := c.run(ctx, known)
		if err != nil {
			return nil, err
		}
		probs = append(probs, more...)
	}
	for i, p := range probs {
		if unknown[strings.ToLower(p.Name)] {
			if s := c.suggest(ctx, p.Name); s != "" {
				probs[i].Message += fmt.Sprintf(" (did you mean %s?)", s)
			}
		}
	}
	return probs, nil
}

var (
	lineRE      = regexp.MustCompile(`(?m)^(?:.*?\s)?(LOG|WARNING|ERROR|FATAL|DETAIL|HINT):  (.*)$`)
	paramRE     = regexp.MustCompile(`parameter "([^"]+)"`)
	unknownRE   = regexp.MustCompile(`^unrecognized configuration parameter "([^"]+)"`)
	syntaxRE    = regexp.MustCompile(`^syntax error in file "[^"]*" line (\d+)`)
	fileSuffix  = regexp.MustCompile(` in file "[^"]*" line \d+$`)
	ignoredLogs = []string{"skipping missing configuration file", "contains errors"}
)

// run checks params once. unknown holds the (lower-case) names PostgreSQL
// did not recognise.
func (c *Checker) run(ctx context.Context, params []Param) ([]Problem, map[string]bool, error) {
	// lc_messages last: a valid one would switch the language of every
	// message after it.
	ordered := make([]Param, 0, len(params))
	var last []Param
	for _, p := range params {
		if strings.EqualFold(p.Name, "lc_messages") {
			last = append(last, p)
			continue
		}
		ordered = append(ordered, p)
	}
	ordered = append(ordered, last...)
	var conf strings.Builder
	for _, p := range ordered {
		line, err := pgconf.FormatLine(p.Name, p.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		conf.WriteString(line + "\n")
	}
	f, err := memFile(conf.String())
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()

	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	// -D names an existing directory without a postgresql.auto.conf (the
	// binaries' own); -C exits right after the configuration is loaded,
	// before the data directory is looked at. Allowed as root.
	cmd := exec.CommandContext(ctx, c.postgres, "-C", "port", "-D", filepath.Dir(c.postgres), "-c", "config_file=/dev/fd/3")
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = []string{"LC_ALL=C", "LC_MESSAGES=C", "LANG=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = nil
	err = cmd.Run()
	if err == nil {
		return nil, nil, nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ctx.Err() != nil {
		return nil, nil, fmt.Errorf("check the settings with %s -C: %w", c.postgres, err)
	}
	probs, unknown := parse(stderr.String(), ordered)
	if len(probs) == 0 {
		return nil, nil, fmt.Errorf("%s -C refused the settings: %s", c.postgres, strings.TrimSpace(stderr.String()))
	}
	return probs, unknown, nil
}

// parse turns PostgreSQL's messages into problems per parameter.
func parse(out string, params []Param) ([]Problem, map[string]bool) {
	byName := map[string]string{}
	for _, p := range params {
		byName[strings.ToLower(p.Name)] = p.Name
	}
	var probs []Problem
	unknown := map[string]bool{}
	cur := -1 // index in probs of the message DETAIL and HINT belong to
	for _, m := range lineRE.FindAllStringSubmatch(out, -1) {
		level, msg := m[1], strings.TrimSpace(m[2])
		switch level {
		case "DETAIL", "HINT":
			if cur >= 0 {
				probs[cur].Message += " " + msg
			}
			continue
		case "FATAL":
			cur = -1
			continue
		}
		cur = -1
		if ignored(msg) {
			continue
		}
		name := ""
		if u := unknownRE.FindStringSubmatch(msg); u != nil {
			name = u[1]
			unknown[strings.ToLower(name)] = true
			msg = "unknown parameter: this PostgreSQL has no parameter of that name (a custom parameter needs a dot: prefix.name)"
		} else if s := syntaxRE.FindStringSubmatch(msg); s != nil {
			if n, _ := strconv.Atoi(s[1]); n >= 1 && n <= len(params) {
				name = params[n-1].Name
			}
		} else if p := paramRE.FindStringSubmatch(msg); p != nil {
			name = p[1]
		}
		if given, ok := byName[strings.ToLower(name)]; ok {
			name = given
		} else {
			name = ""
		}
		probs = append(probs, Problem{Name: name, Message: fileSuffix.ReplaceAllString(msg, "")})
		cur = len(probs) - 1
	}
	return probs, unknown
}

func ignored(msg string) bool {
	for _, s := range ignoredLogs {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// memFile returns an anonymous in-memory file holding content, readable
// again from the start by every open of /dev/fd/N (PostgreSQL reads its
// configuration file twice), and never on disk. Where memfd_create is not
// available it falls back to a private temporary file, removed at once
// (the open descriptor keeps it readable).
func memFile(content string) (*os.File, error) {
	var f *os.File
	if fd, err := unix.MemfdCreate("pgdock-settings", unix.MFD_CLOEXEC); err == nil {
		f = os.NewFile(uintptr(fd), "pgdock-settings")
	} else {
		tf, terr := os.CreateTemp("", "pgdock-settings-*.conf") // mode 0600
		if terr != nil {
			return nil, fmt.Errorf("memfd_create: %w; temporary file: %w", err, terr)
		}
		_ = os.Remove(tf.Name())
		f = tf
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return nil, fmt.Errorf("write settings: %w", err)
	}
	return f, nil
}

// suggest returns the server's parameter closest to name when it is a
// likely typo (edit distance at most 2, or 3 for long names).
func (c *Checker) suggest(ctx context.Context, name string) string {
	if c.names == nil {
		c.names = c.describe(ctx)
	}
	name = strings.ToLower(name)
	best, bestD := "", 3
	if len(name) >= 12 {
		bestD = 4
	}
	for _, n := range c.names {
		if d := distance(name, strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// describe lists the server's parameter names (postgres --describe-config:
// one tab-separated line per parameter, the name first).
func (c *Checker) describe(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.postgres, "--describe-config")
	cmd.Env = []string{"LC_ALL=C"}
	out, err := cmd.Output()
	if err != nil {
		return []string{}
	}
	var names []string
	for _, l := range strings.Split(string(out), "\n") {
		if n, _, ok := strings.Cut(l, "\t"); ok && n != "" {
			names = append(names, n)
		}
	}
	return names
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
