package psql

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

// server is a started real PostgreSQL and the local Target on it.
func server(t *testing.T) (*pgserver.Server, Target) {
	t.Helper()
	s := pgserver.New(t, pgserver.Find(t), pgserver.FreePort(t))
	s.Start()
	return s, Local(s.Conn(), "", "pgdock-psql-test")
}

func str(s string) *string { return &s }

func TestValuesRoundTrip(t *testing.T) {
	_, tg := server(t)
	ctx := context.Background()
	tests := []struct{ name, v string }{
		{"plain", "plain"},
		{"empty", ""},
		{"quotes", `it's "quoted" ''`},
		{"backslashes", `a\b\\c\`},
		{"E-string look-alike", `\n\t\x41\101`},
		{"newlines and tabs", "line1\nline2\r\n\tindented\v\f\b"},
		{"colons and psql variables", `:v :'v' :"v" ::text host:5432`},
		{"copy markers", `\N`},
		{"end of copy data", `\.`},
		{"unicode", "日本語 ✓ é 🐘"},
		{"spaces", "  padded  "},
		{"sql", "'); DROP TABLE x; --"},
		{"meta-command", "\\! echo pwned\n\\q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Query(ctx, tg, `SELECT :'v'::text, length(:'v'), :'v' = $q$`+"placeholder"+`$q$`, Vars{"v": tt.v})
			require.NoError(t, err)
			require.Len(t, rows, 1)
			assert.Equal(t, []*string{str(tt.v), str(strconv.Itoa(len([]rune(tt.v)))), str("f")}, rows[0])
		})
	}
}

func TestNullEmptyAndShapes(t *testing.T) {
	_, tg := server(t)
	ctx := context.Background()
	tests := []struct {
		name, sql string
		want      [][]*string
	}{
		{"NULL and empty", `SELECT NULL::text, ''::text, 'x'`, [][]*string{{nil, str(""), str("x")}}},
		{"no rows", `SELECT 1 WHERE false`, nil},
		{"several rows", `SELECT g, g % 2 = 0 FROM generate_series(1, 3) g ORDER BY g;`,
			[][]*string{{str("1"), str("f")}, {str("2"), str("t")}, {str("3"), str("f")}}},
		{"a NULL row", `VALUES (NULL::int)`, [][]*string{{nil}}},
		{"the string \\N is not NULL", `SELECT '\N'`, [][]*string{{str(`\N`)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Query(ctx, tg, tt.sql, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, rows)
		})
	}
	r, err := InRecovery(ctx, tg)
	require.NoError(t, err)
	assert.False(t, r)
	_, err = QueryRow(ctx, tg, "SELECT 1 WHERE false", nil)
	assert.ErrorContains(t, err, "expected one row, got 0")
}

func TestIdentifiers(t *testing.T) {
	s, tg := server(t)
	ctx := context.Background()
	tests := []struct{ schema, table string }{
		{"plain", "t"},
		{`we"ird`, `ta"ble`},
		{"Mixed Case", "sp ace"},
		{"x; DROP SCHEMA public", `"; --`},
		{"ünï", ":v"},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			require.NoError(t, Exec(ctx, tg, "CREATE SCHEMA "+Ident(tt.schema)+";\nCREATE TABLE "+Ident(tt.schema, tt.table)+" (v text)", nil))
			// the same names as psql identifier variables
			require.NoError(t, Exec(ctx, tg, `INSERT INTO :"s".:"t" VALUES (:'s')`, Vars{"s": tt.schema, "t": tt.table}))
			row, err := QueryRow(ctx, tg, "SELECT v FROM "+Ident(tt.schema, tt.table), nil)
			require.NoError(t, err)
			assert.Equal(t, []*string{str(tt.schema)}, row)
		})
	}
	assert.Equal(t, `"a""b"."c"`, Ident(`a"b`, "c"))
	assert.Equal(t, `CREATE EXTENSION IF NOT EXISTS "a""b"`, CreateExtension(`a"b`))

	// CREATE DATABASE runs outside a transaction; the extension in it.
	db := `new "db"`
	require.NoError(t, Exec(ctx, tg, "CREATE DATABASE "+Ident(db), nil))
	in := tg
	in.Database = db
	require.NoError(t, Exec(ctx, in, CreateExtension("pg_stat_statements"), nil))
	require.NoError(t, Exec(ctx, in, CreateExtension("pg_stat_statements"), nil), "idempotent")
	assert.Equal(t, []string{db}, s.Strings("SELECT datname::text FROM pg_database WHERE datname LIKE 'new%'"))
}

func TestErrors(t *testing.T) {
	_, tg := server(t)
	ctx := context.Background()
	tests := []struct {
		name, sql  string
		vars       Vars
		status     int
		want       string
		notWant    string
		connection bool
	}{
		{name: "missing relation", sql: "SELECT * FROM nope", status: StatusScript, want: `ERROR:  relation "nope" does not exist`},
		{name: "stops at the first error", sql: "SELECT 1/0;\nCREATE TABLE never (x int)", status: StatusScript, want: "division by zero"},
		{name: "the query's values are not echoed", sql: "SELECT length(:'v') + nope", vars: Vars{"v": "topsecret"}, status: StatusScript,
			want: `column "nope" does not exist`, notWant: "topsecret"},
		{name: "bad variable name", sql: "SELECT 1", vars: Vars{"a-b": "x"}, want: `psql variable name "a-b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Exec(ctx, tg, tt.sql, tt.vars)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if tt.notWant != "" {
				assert.NotContains(t, err.Error(), tt.notWant)
			}
			var pe *Error
			if tt.status != 0 {
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.status, pe.Status)
				assert.False(t, pe.Connection())
			}
		})
	}
	rows, err := Query(ctx, tg, "SELECT count(*) FROM pg_class WHERE relname = 'never'", nil)
	require.NoError(t, err)
	assert.Equal(t, [][]*string{{str("0")}}, rows, "ON_ERROR_STOP")

	nowhere := Target{Host: t.TempDir(), Port: 1, User: "postgres"}
	err = Exec(ctx, nowhere, "SELECT 1", nil)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Connection(), err.Error())
	assert.Contains(t, err.Error(), "connection to server on socket")
}

// The container's environment does not reach psql.
func TestEnvironmentNotInherited(t *testing.T) {
	_, tg := server(t)
	t.Setenv("PGHOST", "elsewhere.invalid")
	t.Setenv("PGPORT", "1")
	t.Setenv("PGUSER", "nobody")
	t.Setenv("PGDATABASE", "nodb")
	t.Setenv("PGOPTIONS", "-c search_path=nowhere")
	t.Setenv("PGAPPNAME", "inherited")
	t.Setenv("PGSSLMODE", "require")
	t.Setenv("PGSERVICE", "missing")
	t.Setenv("PSQLRC", "/nonexistent")
	row, err := QueryRow(context.Background(), tg,
		"SELECT current_user, current_database(), current_setting('application_name'), current_setting('search_path')", nil)
	require.NoError(t, err)
	assert.Equal(t, []*string{str("postgres"), str("postgres"), str("pgdock-psql-test"), str(`"$user", public`)}, row)
}

// psqlChild waits for a psql child of this process and returns its argv
// and environment as /proc shows them.
func psqlChild(t *testing.T, done <-chan struct{}) (cmdline, environ []byte) {
	t.Helper()
	self := strconv.Itoa(os.Getpid())
	for {
		select {
		case <-done:
			t.Fatal("psql ended before it was seen in /proc")
		default:
		}
		procs, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, st := range procs {
			b, err := os.ReadFile(st)
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...
			_, rest, _ := strings.Cut(string(b), ") ")
			f := strings.Fields(rest)
			if len(f) < 2 || f[1] != self || !strings.Contains(string(b), "(psql)") {
				continue
			}
			dir := filepath.Dir(st)
			cmdline, _ = os.ReadFile(filepath.Join(dir, "cmdline"))
			environ, _ = os.ReadFile(filepath.Join(dir, "environ"))
			if len(cmdline) > 0 {
				return cmdline, environ
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPasswordOverTCP(t *testing.T) {
	s, local := server(t)
	ctx := context.Background()
	const pw = `p#ss 'wo"rd: \x`
	require.NoError(t, Exec(ctx, local, `CREATE ROLE "app user" LOGIN PASSWORD :'pw'`, Vars{"pw": pw}))
	tg := Target{Host: "127.0.0.1", Port: s.Port, User: "app user", Database: "postgres", Application: "pgdock-psql-test",
		SSLMode: "disable", Password: pw, ConnectTimeout: 5 * time.Second}

	done := make(chan struct{})
	var row []*string
	var err error
	go func() {
		defer close(done)
		row, err = QueryRow(ctx, tg, "SELECT current_user, inet_server_port() FROM pg_sleep(1)", nil)
	}()
	cmdline, environ := psqlChild(t, done)
	<-done
	require.NoError(t, err)
	assert.Equal(t, []*string{str("app user"), str(strconv.Itoa(s.Port))}, row, "over TCP with the password")
	assert.NotContains(t, string(cmdline), "p#ss")
	assert.NotContains(t, string(environ), "p#ss")
	assert.NotContains(t, string(environ), "PGPASSWORD")
	env := strings.Split(strings.TrimSuffix(string(environ), "\x00"), "\x00")
	var passfile string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		assert.Contains(t, []string{"PATH", "LC_ALL", "PGCLIENTENCODING", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE",
			"PGAPPNAME", "PGSSLMODE", "PGPASSFILE", "PGCONNECT_TIMEOUT"}, k, "built from scratch")
		if k == "PGPASSFILE" {
			passfile = v
		}
	}
	require.NotEmpty(t, passfile)
	_, statErr := os.Stat(filepath.Dir(passfile))
	assert.True(t, os.IsNotExist(statErr), "the passfile's directory is removed after the run")

	// The passfile while psql runs: 0600 in a 0700 directory.
	done = make(chan struct{})
	go func() {
		defer close(done)
		err = Exec(ctx, tg, "SELECT pg_sleep(1)", nil)
	}()
	_, environ = psqlChild(t, done)
	for _, kv := range strings.Split(string(environ), "\x00") {
		if v, ok := strings.CutPrefix(kv, "PGPASSFILE="); ok {
			st, serr := os.Stat(v)
			require.NoError(t, serr)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			dst, serr := os.Stat(filepath.Dir(v))
			require.NoError(t, serr)
			assert.Equal(t, os.FileMode(0o700), dst.Mode().Perm())
		}
	}
	<-done
	require.NoError(t, err)

	wrong := tg
	wrong.Password = "wrong " + pw
	err = Exec(ctx, wrong, "SELECT 1", nil)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Connection())
	assert.Contains(t, err.Error(), `password authentication failed for user "app user"`)
	assert.NotContains(t, err.Error(), "p#ss")
}

func TestCancelKillsTheQuery(t *testing.T) {
	s, tg := server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Exec(ctx, tg, "SELECT pg_sleep(30)", nil)
	took := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 3*time.Second, "psql is ended at the deadline")
	// psql cancelled the statement on the server too.
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := s.Strings("SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
		if n[0] == "0" {
			break
		}
		require.True(t, time.Now().Before(deadline), "the backend still runs pg_sleep")
		time.Sleep(50 * time.Millisecond)
	}
}

func TestUnescapeCopy(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\\b`, `a\b`},
		{`\b\f\n\r\t\v`, "\b\f\n\r\t\v"},
		{`\101\x42\7`, "AB\a"},
		{`\xZ`, "xZ"},
		{`\q`, "q"},
		{`end\`, `end\`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, unescapeCopy(tt.in), tt.in)
	}
	_, err := parseCopy("a\tb\nc\n")
	assert.ErrorContains(t, err, "row 2 has 1 fields")
	_, err = parseCopy("a")
	assert.Error(t, err)
}

func TestLocal(t *testing.T) {
	c := sdk.Conn{SocketDir: "/run/postgresql", Port: 5433, User: "we'ird", Database: "app"}
	tests := []struct {
		name, database, want string
		conn                 sdk.Conn
	}{
		{"named database", "other db", "other db", c},
		{"the connection's database", "", "app", c},
		{"postgres when neither", "", "postgres", sdk.Conn{SocketDir: "/s", Port: 5432, User: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Local(tt.conn, tt.database, "app-name").env("")
			assert.Contains(t, env, "PGDATABASE="+tt.want)
			assert.Contains(t, env, "PGHOST="+tt.conn.SocketDir)
			assert.Contains(t, env, "PGPORT="+strconv.Itoa(tt.conn.Port))
			assert.Contains(t, env, "PGUSER="+tt.conn.User)
			assert.Contains(t, env, "PGSSLMODE=disable", "no TLS on a socket")
			assert.Contains(t, env, "PGAPPNAME=app-name")
			assert.Contains(t, env, "PGCONNECT_TIMEOUT=10")
		})
	}
	line, err := passLine(`a:b\c`)
	require.NoError(t, err)
	assert.Equal(t, "*:*:*:*:a\\:b\\\\c\n", string(line))
	_, err = passLine("two\nlines")
	assert.Error(t, err)
}
