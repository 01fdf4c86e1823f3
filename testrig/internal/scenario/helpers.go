package scenario

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// Compose files of the stacks users run, relative to the repository root.
const (
	DirectCompose     = "compose/direct/compose.yaml"
	MonitoringCompose = "compose/monitoring/compose.yaml"
)

// Service names in the compose files.
const (
	svcPostgres   = "postgres"
	svcPrometheus = "prometheus"
	svcExporter   = "postgres-exporter"
	svcGrafana    = "grafana"
)

// Readiness lines in the container log.
const (
	// pgdockReady is logged by pgdock-entrypoint once the real server (not the
	// first boot's temporary one) accepts connections.
	pgdockReady = "PostgreSQL is ready"
	// skipInit is the official image's line for a later boot.
	skipInit = "PostgreSQL Database directory appears to contain a database; Skipping initialization"
)

//go:embed testdata/initdb
var initdbFS embed.FS

// writeInitScripts copies the init-script fixtures into dir, world-readable
// (the server's user reads them), executable where the name says "-exec".
func writeInitScripts(dir string) ([]string, error) {
	entries, err := initdbFS.ReadDir("testdata/initdb")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		b, err := initdbFS.ReadFile("testdata/initdb/" + e.Name())
		if err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(e.Name(), "-exec") {
			mode = 0o755
		}
		p := filepath.Join(dir, e.Name())
		if err := os.WriteFile(p, b, mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			return nil, err
		}
		names = append(names, e.Name())
	}
	return names, nil
}

// randomPassword is a password with characters that need quoting in a DSN
// and a shell, as users pick them.
func randomPassword() string {
	return "rig pw'\"$" + NewRunID()
}

// secretEnv writes the superuser password into a file for the compose
// files' PGDOCK_PASSWORD_FILE secret (mode 0600, owned by uid:gid so a
// container run as that --user can read it) and returns the interpolation
// variables naming it.
func secretEnv(t *T, password string, uid, gid int) ([]string, error) {
	dir, err := t.TempDir()
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	f := filepath.Join(dir, "postgres-password")
	if err := os.WriteFile(f, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := os.Chown(f, uid, gid); err != nil {
		return nil, fmt.Errorf("chown the password file to %d:%d: %w", uid, gid, err)
	}
	return []string{"PGDOCK_PASSWORD_FILE=" + f}, nil
}

// pgConnect opens a connection through a published port.
func pgConnect(ctx context.Context, addr, user, password, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return nil, fmt.Errorf("address %q has no port", addr)
	}
	var p uint16
	if _, err := fmt.Sscan(port, &p); err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Password, cfg.Database = host, p, user, password, db
	cfg.ConnectTimeout = 5 * time.Second
	cfg.TLSConfig = nil
	return pgx.ConnectConfig(ctx, cfg)
}

// queryString runs a query returning one text value.
func queryString(ctx context.Context, c *pgx.Conn, sql string, args ...any) (string, error) {
	var s string
	if err := c.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
		return "", fmt.Errorf("%s: %w", sql, err)
	}
	return s, nil
}

// logTime returns the Engine's time of the first log line at or after since
// containing substr.
func logTime(lines []engine.LogLine, substr string, since time.Time) (time.Time, bool) {
	for _, l := range lines {
		if !l.At.Before(since) && strings.Contains(l.Text, substr) {
			return l.At, true
		}
	}
	return time.Time{}, false
}

// errorLine matches the server's ERROR/FATAL/PANIC lines and pgdock's own
// error-level log entries ("[ERROR]" in its console format, or JSON).
var errorLine = regexp.MustCompile(`\b(ERROR|FATAL|PANIC):|\[(ERROR|FATAL|PANIC|DPANIC)\]|"level":"(error|fatal|panic|dpanic)"`)

// errorLines returns the log lines reporting an error.
func errorLines(lines []engine.LogLine) []string {
	var out []string
	for _, l := range lines {
		if errorLine.MatchString(l.Text) {
			out = append(out, l.Text)
		}
	}
	return out
}

// tail returns the last n log lines as text, for failure messages.
func tail(lines []engine.LogLine, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n    | ")
		b.WriteString(l.Text)
	}
	return b.String()
}

// withLogs adds the tail of a service's log to an error.
func withLogs(ctx context.Context, st *engine.Stack, service string, err error) error {
	if err == nil {
		return nil
	}
	lines, lerr := st.Logs(ctx, service)
	if lerr != nil || len(lines) == 0 {
		return err
	}
	return fmt.Errorf("%w; last log lines of %s:%s", err, service, tail(lines, 15))
}

// poll calls fn until it returns nil or timeout passes (returning fn's last
// error), every 200 ms.
func poll(ctx context.Context, timeout time.Duration, fn func() error) error {
	return pollEvery(ctx, timeout, 200*time.Millisecond, fn)
}

// pollEvery is poll with its own interval.
func pollEvery(ctx context.Context, timeout, every time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(every):
		}
	}
}
