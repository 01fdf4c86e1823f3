package psql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Vars are psql variables the SQL refers to as :'name' (a quoted literal)
// or :"name" (a quoted identifier); psql quotes the value. Names are
// letters, digits and underscores. The values travel on psql's stdin, never
// in argv, so a secret may be one.
type Vars map[string]string

// killDelay is how long psql has to cancel its query (SIGINT makes it send
// the server a cancel request) once the context ended, before it is
// killed.
const killDelay = time.Second

// psql's exit statuses (psql(1), "Exit Status").
const (
	// StatusConnection is psql's exit status when the connection could not
	// be made or was lost.
	StatusConnection = 2
	// StatusScript is psql's exit status when a statement failed
	// (ON_ERROR_STOP).
	StatusScript = 3
)

// Error is psql's failure: its exit status and the error lines it printed
// (without the query text it echoes, and with the target's password
// masked).
type Error struct {
	Status  int    // psql's exit status; -1 when it was killed
	Message string // e.g. `ERROR:  relation "x" does not exist`
	err     error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "psql: " + e.err.Error()
	}
	return "psql: " + e.Message
}

func (e *Error) Unwrap() error { return e.err }

// Connection reports whether psql could not connect (or lost the
// connection), as opposed to a failed statement.
func (e *Error) Connection() bool { return e.Status == StatusConnection }

// Exec runs sql (one or more statements) in a session on t.
func Exec(ctx context.Context, t Target, sql string, vars Vars) error {
	_, err := run(ctx, t, sql, vars)
	return err
}

// Query runs one query (a SELECT, VALUES, or INSERT/UPDATE/DELETE with
// RETURNING, without a trailing comment) and returns its rows, each value
// in PostgreSQL's text form (booleans "t"/"f"), nil for NULL. The rows
// travel in COPY's text format, so values may hold any character.
func Query(ctx context.Context, t Target, sql string, vars Vars) ([][]*string, error) {
	q := strings.TrimRight(strings.TrimSpace(sql), "; \t\r\n")
	out, err := run(ctx, t, "COPY (\n"+q+"\n) TO STDOUT;\n", vars)
	if err != nil {
		return nil, err
	}
	return parseCopy(out)
}

// QueryRow is Query for a query that returns exactly one row.
func QueryRow(ctx context.Context, t Target, sql string, vars Vars) ([]*string, error) {
	rows, err := Query(ctx, t, sql, vars)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("psql: expected one row, got %d", len(rows))
	}
	return rows[0], nil
}

// QueryBool is QueryRow for one boolean that is not NULL.
func QueryBool(ctx context.Context, t Target, sql string, vars Vars) (bool, error) {
	row, err := QueryRow(ctx, t, sql, vars)
	if err != nil {
		return false, err
	}
	if len(row) != 1 || row[0] == nil {
		return false, fmt.Errorf("psql: expected one boolean, got %d columns (or NULL)", len(row))
	}
	switch *row[0] {
	case "t":
		return true, nil
	case "f":
		return false, nil
	}
	return false, fmt.Errorf("psql: expected a boolean, got %q", *row[0])
}

// InRecovery reports whether the server t names is a replica
// (pg_is_in_recovery).
func InRecovery(ctx context.Context, t Target) (bool, error) {
	r, err := QueryBool(ctx, t, "SELECT pg_catalog.pg_is_in_recovery()", nil)
	if err != nil {
		return false, fmt.Errorf("pg_is_in_recovery: %w", err)
	}
	return r, nil
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// script is the input psql reads: a \set per variable, then sql.
func script(sql string, vars Vars) (string, error) {
	var b strings.Builder
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !varName.MatchString(n) {
			return "", fmt.Errorf("psql variable name %q: use letters, digits and underscores", n)
		}
		v := vars[n]
		if strings.ContainsRune(v, 0) {
			return "", fmt.Errorf("psql variable %s: PostgreSQL text cannot hold a NUL byte", n)
		}
		b.WriteString(`\set ` + n + ` ` + metaQuote(v) + "\n")
	}
	b.WriteString(sql)
	b.WriteString("\n")
	return b.String(), nil
}

// metaQuote quotes v as a psql meta-command argument: in single quotes a
// quote is doubled and psql reads \\, \n and \r as a backslash, a newline
// and a carriage return (so the argument stays on one line).
func metaQuote(v string) string {
	return "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`, "\n", `\n`, "\r", `\r`).Replace(v) + "'"
}

// passLine is the passfile line matching any server, port, database and
// user with password (":" and "\" escaped with "\").
func passLine(password string) ([]byte, error) {
	if strings.ContainsAny(password, "\n\r\x00") {
		return nil, errors.New("a password holding a line break or NUL cannot go into a passfile")
	}
	return []byte("*:*:*:*:" + strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(password) + "\n"), nil
}

// run runs psql with script on stdin and returns its standard output.
func run(ctx context.Context, t Target, sql string, vars Vars) (string, error) {
	in, err := script(sql, vars)
	if err != nil {
		return "", err
	}
	prog := t.Psql
	if prog == "" {
		if prog, err = Find(); err != nil {
			return "", fmt.Errorf("psql not found (install postgresql-client or put PostgreSQL's bin directory on PATH): %w", err)
		}
	}
	passfile := ""
	if t.Password != "" {
		line, err := passLine(t.Password)
		if err != nil {
			return "", err
		}
		dir, err := os.MkdirTemp("", "pgdock-psql-")
		if err != nil {
			return "", fmt.Errorf("psql passfile: %w", err)
		}
		defer os.RemoveAll(dir)
		passfile = filepath.Join(dir, "pgpass")
		f, err := os.OpenFile(passfile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("psql passfile: %w", err)
		}
		_, err = f.Write(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", fmt.Errorf("psql passfile: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, prog, "--no-psqlrc", "--no-password", "--quiet",
		"--set", "ON_ERROR_STOP=1", "--file", "-")
	cmd.Env = t.env(passfile)
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group: a signal to the plugin's group does not reach
	// it. On ctx's end SIGINT makes psql cancel the running statement on
	// the server; killDelay later it is killed. Wait reaps it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = killDelay
	err = cmd.Run()
	if err == nil {
		return stdout.String(), nil
	}
	e := &Error{Status: -1, Message: errorLines(stderr.String(), t.Password), err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		e.Status = ee.ExitCode()
	}
	if ctx.Err() != nil {
		e.err = fmt.Errorf("interrupted (%w): %w", ctx.Err(), err)
		if e.Message != "" {
			e.Message = "interrupted (" + ctx.Err().Error() + "): " + e.Message
		}
	}
	return "", e
}

var locationPrefix = regexp.MustCompile(`^psql:[^:]*:\d+: `)

// errorLines keeps psql's error lines from stderr: ERROR, FATAL, HINT and
// psql's own "error:" lines with their indented continuations; it drops
// notices, DETAIL (which may echo values), and LINE, QUERY and CONTEXT
// (which echo the SQL, interpolated values included). password is masked.
func errorLines(stderr, password string) string {
	var keep []string
	kept := false
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "\t") && kept && !strings.HasPrefix(strings.TrimSpace(l), "^") {
			keep = append(keep, strings.TrimSpace(l))
			continue
		}
		l = strings.TrimSpace(locationPrefix.ReplaceAllString(l, ""))
		kept = strings.HasPrefix(l, "ERROR:") || strings.HasPrefix(l, "FATAL:") || strings.HasPrefix(l, "HINT:") ||
			strings.HasPrefix(l, "psql: error:") || strings.HasPrefix(l, "error:")
		if kept {
			keep = append(keep, l)
		}
	}
	msg := strings.Join(keep, " ")
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "********")
	}
	return msg
}
