package upgrade

import (
	"context"
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/postmaster"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

func TestParseRows(t *testing.T) {
	for _, tc := range []struct {
		name  string
		out   string
		ncols int
		want  [][]string
		err   string
	}{
		{"no rows", "", 1, nil, ""},
		{"one empty value", "\x00", 1, [][]string{{""}}, ""},
		{"plain names", "app\x00postgres\x00template1\x00", 1, [][]string{{"app"}, {"postgres"}, {"template1"}}, ""},
		{"spaces and quotes", "my db\x00it's \"quoted\"\x00", 1, [][]string{{"my db"}, {`it's "quoted"`}}, ""},
		{"newlines, tabs, backslash", "two\nlines\x00tab\there\x00back\\slash\r\n\x00", 1,
			[][]string{{"two\nlines"}, {"tab\there"}, {"back\\slash\r\n"}}, ""},
		{"unicode", "ünïcødé\x00数据库 🐘\x00", 1, [][]string{{"ünïcødé"}, {"数据库 🐘"}}, ""},
		{"separators psql would use otherwise", "a|b\x00c,d\x00", 1, [][]string{{"a|b"}, {"c,d"}}, ""},
		{"two columns", "hstore\x001.7\x00plpgsql\x001.0\x00", 2, [][]string{{"hstore", "1.7"}, {"plpgsql", "1.0"}}, ""},
		{"empty fields in a row", "\x00\x00x\x00\x00", 2, [][]string{{"", ""}, {"x", ""}}, ""},
		{"five columns", "UTF8\x00en_US.utf8\x00en_US.utf8\x00c\x00\x00", 5,
			[][]string{{"UTF8", "en_US.utf8", "en_US.utf8", "c", ""}}, ""},
		{"not ended by NUL", "app\x00postgres", 1, nil, "does not end with a NUL"},
		{"text instead of rows", "psql: warning\n", 1, nil, "does not end with a NUL"},
		{"fields not a multiple of the columns", "a\x00b\x00c\x00", 2, nil, "3 fields are not rows of 2 columns"},
		{"no columns", "a\x00", 0, nil, "0 columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := parseRows(tc.out, tc.ncols)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, rows)
		})
	}
}

func TestConninfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"plain", []string{"host", "/run/pg", "port", "50432"}, `host='/run/pg' port='50432'`},
		{"spaces and equals", []string{"dbname", "a=b c"}, `dbname='a=b c'`},
		{"quote", []string{"dbname", "it's"}, `dbname='it\'s'`},
		{"backslash before quote", []string{"user", `a\'b`}, `user='a\\\'b'`},
		{"empty", []string{"dbname", ""}, `dbname=''`},
		{"newline and unicode kept as they are", []string{"dbname", "x\ny 数据"}, "dbname='x\ny 数据'"},
		{"URI-like value", []string{"dbname", "postgresql://h/x"}, `dbname='postgresql://h/x'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, conninfo(tc.kv...))
		})
	}
}

// oddNames are database names psql's output and the connection string
// must carry unchanged.
var oddNames = []string{
	"with space", `it's "quoted"`, "two\nlines", "tab\tand\\backslash", "ünïcødé 数据库 🐘",
	"a=b c", "postgresql://h/x", "x'; DROP DATABASE app; --", "trailing\r\n", "|,",
}

// TestPsqlQueries reads a real server as the upgrade reads the old one
// (query) and the new one (verify's listing), with databases whose names
// hold spaces, quotes, newlines and Unicode, and compares with what pgx
// reads.
func TestPsqlQueries(t *testing.T) {
	env := testpg.Setup(t)
	pgdata := env.Initdb(t)
	sock := env.Dir(t, "sock")
	r, stop := reaper.Background(nil)
	t.Cleanup(stop)
	srv, err := postmaster.Start(postmaster.Options{Postgres: env.Bin.Postgres, PGData: pgdata, Env: os.Environ(),
		Args:       []string{"-c", "listen_addresses=", "-k", sock, "-p", strconv.Itoa(oldPort)},
		Credential: env.Credential, Reaper: r, Stdout: io.Discard, Stderr: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() { srv.KillGroup(syscall.SIGKILL); <-srv.Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitReady(ctx))

	connect := func(db string) *pgx.Conn {
		cfg, err := pgx.ParseConfig("")
		require.NoError(t, err)
		cfg.Host, cfg.Port, cfg.User, cfg.Database = sock, oldPort, "postgres", db
		c, err := pgx.ConnectConfig(ctx, cfg)
		require.NoError(t, err, db)
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	admin := connect("postgres")
	for _, n := range oddNames {
		_, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize())
		require.NoError(t, err, "%q", n)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE nologin ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = connect(oddNames[1]).Exec(ctx, "CREATE EXTENSION hstore") // contrib, part of Debian's postgresql-NN
	require.NoError(t, err)
	var wantDBs []string
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname")
	require.NoError(t, err)
	wantDBs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Len(t, wantDBs, len(oddNames)+2) // postgres, template1 and the odd ones
	var num int
	require.NoError(t, admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num))

	// POSTGRES_USER that does not exist: the next candidate, postgres.
	o := &Options{Bin: env.Bin, User: "no such user", SocketDir: sock, Reaper: r, Log: zap.NewNop(), Env: os.Environ()}
	p := &plan{from: num / 10000}
	require.NoError(t, o.query(ctx, p))
	assert.Equal(t, "postgres", p.superuser)
	var enc, collate, ctype string
	require.NoError(t, admin.QueryRow(ctx, "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = 'template0'").
		Scan(&enc, &collate, &ctype))
	assert.Equal(t, []string{enc, collate, ctype}, []string{p.encoding, p.collate, p.ctype})
	if p.from >= 15 {
		assert.Contains(t, []string{"c", "i", "b"}, p.provider)
	}
	assert.Equal(t, wantDBs, p.databases, "every name as it is, in order")
	var extDBs []string
	for _, e := range p.exts {
		assert.NotEmpty(t, e.version, "%+v", e)
		if e.name == "hstore" {
			extDBs = append(extDBs, e.db)
		}
	}
	assert.Len(t, p.exts, len(wantDBs)+len(extDBs), "plpgsql in every database, hstore where created")
	assert.Equal(t, []string{oddNames[1]}, extDBs)

	// verify's listing.
	dbs, err := o.databases(ctx, oldPort, "postgres")
	require.NoError(t, err)
	assert.Equal(t, wantDBs, dbs)

	// A connection psql cannot make is told apart from a failed query.
	_, err = o.extensions(ctx, oldPort, "postgres", "no such database")
	require.Error(t, err)
	assert.True(t, connFailed(err), "%v", err)
	assert.Contains(t, err.Error(), `database "no such database" does not exist`)
	_, err = o.psql(ctx, oldPort, "postgres", "postgres", "SELECT 1/0", 1)
	require.ErrorContains(t, err, "division by zero")
	assert.False(t, connFailed(err))
	o.User = "nobody here"
	o.SocketDir = t.TempDir() // no server there
	err = o.query(ctx, &plan{from: p.from})
	require.ErrorContains(t, err, "connect to the old server as nobody here or postgres")
	assert.True(t, connFailed(err))
}
