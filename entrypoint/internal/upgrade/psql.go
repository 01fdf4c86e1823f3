package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// The upgrade reads the temporary servers with this image's psql rather
// than with a Go driver, which would add some 4 MB to the entrypoint's
// binary and to its idle memory (docs/performance.md, "Entrypoint
// memory"). The new release's psql reads the old server too: pg_upgrade
// itself connects to the old server with the new release's libpq, and the
// old bin directory need not have psql (PGDOCK_UPGRADE_OLD_BINDIR may name
// a server-only installation).

// psqlBadConn is psql's exit status when the connection could not be made
// (or was lost); a failed query ends it with 1.
const psqlBadConn = 2

// psql runs sql, a fixed query (nothing is spliced into it), with psql on
// database db of the temporary server listening on port in the socket
// directory, as user, and returns its rows of ncols fields each. The
// names travel in a quoted connection string, never in the SQL. psql
// prints the rows unaligned, without header or footer, with NUL between
// fields and after each row: PostgreSQL's text cannot hold NUL, so a value
// may hold any other character (spaces, quotes, newlines, any Unicode).
// A connection that psql could not make is reported as such (connFailed).
func (o *Options) psql(ctx context.Context, port int, user, db, sql string, ncols int) ([][]string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(o.Bin.Psql, "--no-psqlrc", "--no-password", "--quiet", "--no-align", "--tuples-only",
		"--field-separator-zero", "--record-separator-zero", "--set", "ON_ERROR_STOP=1",
		"--dbname", conninfo(
			"host", o.SocketDir, "port", strconv.Itoa(port), "user", user, "dbname", db,
			"application_name", "pgdock-upgrade", "client_encoding", "UTF8"),
		"--command", sql)
	cmd.Dir = "/"
	cmd.Env = o.env()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started, err := o.execute(ctx, cmd)
	switch {
	case !started:
		return nil, fmt.Errorf("psql: %w", err)
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("psql interrupted: %w", ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("psql failed (%w): %s", err, tail(stderr.String(), 5))
	}
	rows, err := parseRows(stdout.String(), ncols)
	if err != nil {
		return nil, fmt.Errorf("psql: %w", err)
	}
	return rows, nil
}

// psqlOne is psql for a query that returns exactly one row.
func (o *Options) psqlOne(ctx context.Context, port int, user, db, sql string, ncols int) ([]string, error) {
	rows, err := o.psql(ctx, port, user, db, sql, ncols)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("expected one row, got %d", len(rows))
	}
	return rows[0], nil
}

// connFailed reports whether err is psql's failure to connect.
func connFailed(err error) bool {
	var ee *reaper.ExitError
	return errors.As(err, &ee) && ee.Status.Exited() && ee.Status.ExitStatus() == psqlBadConn
}

// databases lists the databases that accept connections, by name.
func (o *Options) databases(ctx context.Context, port int, user string) ([]string, error) {
	rows, err := o.psql(ctx, port, user, "template1", "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname", 1)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r[0]
	}
	return names, nil
}

// extensions lists the extensions installed in database db.
func (o *Options) extensions(ctx context.Context, port int, user, db string) ([]extension, error) {
	rows, err := o.psql(ctx, port, user, db, "SELECT extname, extversion FROM pg_extension ORDER BY extname", 2)
	if err != nil {
		return nil, err
	}
	exts := make([]extension, len(rows))
	for i, r := range rows {
		exts[i] = extension{db: db, name: r[0], version: r[1]}
	}
	return exts, nil
}

// parseRows splits psql's output with NUL as field and record separator
// (--no-align --tuples-only --field-separator-zero --record-separator-zero)
// into rows of ncols fields. psql ends the last row with a NUL too and
// prints nothing for no rows; as both separators are NUL, the rows are
// told apart by the column count.
func parseRows(out string, ncols int) ([][]string, error) {
	if ncols < 1 {
		return nil, fmt.Errorf("parse psql output: %d columns", ncols)
	}
	if out == "" {
		return nil, nil
	}
	body, ok := strings.CutSuffix(out, "\x00")
	if !ok {
		return nil, fmt.Errorf("parse psql output: it does not end with a NUL separator (%d bytes, ends %q)", len(out), out[max(0, len(out)-20):])
	}
	fields := strings.Split(body, "\x00")
	if len(fields)%ncols != 0 {
		return nil, fmt.Errorf("parse psql output: %d fields are not rows of %d columns", len(fields), ncols)
	}
	rows := make([][]string, 0, len(fields)/ncols)
	for i := 0; i < len(fields); i += ncols {
		rows = append(rows, fields[i:i+ncols:i+ncols])
	}
	return rows, nil
}

// conninfo makes a libpq connection string of keyword/value pairs, every
// value single-quoted with backslashes and quotes escaped: a database or
// role name may hold any character (a bare name with "=" given to psql
// --dbname would be read as a connection string).
func conninfo(kv ...string) string {
	quote := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i])
		b.WriteString("='")
		b.WriteString(quote.Replace(kv[i+1]))
		b.WriteByte('\'')
	}
	return b.String()
}
