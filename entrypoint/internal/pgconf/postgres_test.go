package pgconf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// pgBinDir is where Debian installs PostgreSQL 15's server binaries.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// realPG runs PostgreSQL 15 binaries in a scratch directory, as the postgres
// OS user when the test runs as root (the server refuses to run as root).
type realPG struct {
	t    *testing.T
	base string
	data string
	cred *syscall.Credential
}

func newRealPG(t *testing.T) *realPG {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the real PostgreSQL check in -short mode")
	}
	if _, err := os.Stat(filepath.Join(pgBinDir, "initdb")); err != nil {
		testpg.Missing(t, fmt.Sprintf("PostgreSQL 15 is not installed (%s/initdb: %v); install postgresql-15 to run this test", pgBinDir, err))
	}
	base, err := os.MkdirTemp("", "pgconf-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	pg := &realPG{t: t, base: base, data: filepath.Join(base, "data")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testpg.Missing(t, fmt.Sprintf("running as root but there is no postgres OS user to run the server as: %v", err))
		}
		uid, err := strconv.ParseUint(u.Uid, 10, 32)
		require.NoError(t, err)
		gid, err := strconv.ParseUint(u.Gid, 10, 32)
		require.NoError(t, err)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		require.NoError(t, os.Chown(base, int(uid), int(gid)))
	}
	pg.run("initdb", "-D", pg.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	return pg
}

func (pg *realPG) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(pgBinDir, name), args...)
	cmd.Dir = pg.base
	cmd.Env = []string{"PATH=" + pgBinDir + ":/usr/bin:/bin", "LANG=C", "LC_ALL=C", "HOME=" + pg.base, "PGDATA=" + pg.data}
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd
}

func (pg *realPG) run(name string, args ...string) string {
	pg.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := pg.command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(pg.t, cmd.Run(), "%s %v: %s", name, args, stderr.String())
	return stdout.String()
}

func (pg *realPG) writeFile(name, content string) {
	pg.t.Helper()
	p := filepath.Join(pg.data, name)
	require.NoError(pg.t, os.WriteFile(p, []byte(content), 0o600))
	if pg.cred != nil {
		require.NoError(pg.t, os.Chown(p, int(pg.cred.Uid), int(pg.cred.Gid)))
	}
}

func (pg *realPG) appendConf(lines []string) {
	pg.t.Helper()
	old, err := os.ReadFile(filepath.Join(pg.data, "postgresql.conf"))
	require.NoError(pg.t, err)
	pg.writeFile("postgresql.conf", string(old)+"\n"+strings.Join(lines, "\n")+"\n")
}

// TestQuoteValueAgainstPostgreSQL writes nasty values with FormatLine and
// reads each back with `postgres -C`: the server must see exactly the value.
func TestQuoteValueAgainstPostgreSQL(t *testing.T) {
	pg := newRealPG(t)
	custom := []string{
		"plain",
		"it's a 'quoted' value",
		`back\slash \\ double \n not-a-newline \101`,
		`trailing backslash\`,
		"# not a comment; = neither",
		"  leading and trailing spaces  ",
		"tab\tinside",
		`"double" quotes, commas`,
		"unicode: žluťoučký kůň 日本語 🐘",
		"''",
		"",
		"$user, ${PATH}, `cmd`",
	}
	builtin := []struct{ name, value, want string }{
		{name: "work_mem", value: "64MB", want: "65536"},
		{name: "max_connections", value: "50", want: "50"},
		{name: "log_duration", value: "on", want: "on"},
		{name: "log_statement", value: "ddl", want: "ddl"},
		{name: "search_path", value: `"$user", public, "it's"`, want: `"$user", public, "it's"`},
	}
	var lines []string
	for i, v := range custom {
		line, err := FormatLine(fmt.Sprintf("pgdock.test_value_%d", i), v)
		require.NoError(t, err)
		lines = append(lines, line)
	}
	for _, b := range builtin {
		line, err := FormatLine(b.name, b.value)
		require.NoError(t, err)
		lines = append(lines, line)
	}
	pg.appendConf(lines)

	for i, v := range custom {
		got := pg.run("postgres", "-D", pg.data, "-C", fmt.Sprintf("pgdock.test_value_%d", i))
		assert.Equal(t, v+"\n", got, "value %d", i)
	}
	for _, b := range builtin {
		got := pg.run("postgres", "-D", pg.data, "-C", b.name)
		assert.Equal(t, b.want+"\n", got, b.name)
	}
}

// TestHBAAgainstPostgreSQL loads canonical rules into a running PostgreSQL 15
// and reads pg_hba_file_rules (which re-parses the file on every query): the
// rules ParseHBARule accepts must load without error, and the rules it
// rejects that PostgreSQL also rejects must carry an error there.
func TestHBAAgainstPostgreSQL(t *testing.T) {
	pg := newRealPG(t)
	sock := pg.base
	port := strconv.Itoa(40000 + os.Getpid()%20000)
	pg.run("pg_ctl", "-D", pg.data, "-w", "-s", "-l", filepath.Join(pg.data, "server.log"),
		"-o", "-c listen_addresses= -k "+sock+" -p "+port, "start")
	t.Cleanup(func() {
		_ = pg.command("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "-s", "stop").Run()
	})

	good := []string{
		"host all all all scram-sha-256",
		"local all postgres peer",
		"local all all ident map=omicron",
		"host replication replicator 192.168.1.0 255.255.255.0 md5",
		"host db1,db2 alice,bob 10.0.0.0/8 md5",
		`host "my db","all" +admins,+"ops team","+literal" ::/0 trust`,
		"host all all .example.com md5",
		"host all all my_service-1 trust",
		"hostnossl sameuser all ::1/128 password",
		`host all all all ldap ldapserver=ldap.example.com "ldapbasedn=dc=example, dc=net" ldapsearchattribute=uid`,
		`host all all 10.1.2.3/32 radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets=s3cret`,
		"hostgssenc all all all gss include_realm=0 krb_realm=EXAMPLE.COM",
		`hostnogssenc "sameuser","#hash" "all" samehost md5`,
		"local all all pam pamservice=postgresql",
		"host all all samenet reject",
	}
	// Rules both ParseHBARule and PostgreSQL refuse.
	bad := []string{
		"hots all all all md5",
		"host all all 10.0.0.0/33 md5",
		"host all all 10.0.0.0/8 md6",
		"host all all all peer",
		"local all all gss",
		"host all all all cert",
		"host all all all md5 foo",
		"host all all all md5 secret=x",
		"host all all all md5 map=x",
		"host all all all md5 clientcert=verify-ca",
		"host all all all ldap ldapserver=x",
		"host all all all radius radiusservers=127.0.0.1",
		"host all all 10.0.0.1 md5",
		"host all all all sspi",
	}
	file := []string{"local all all trust"} // keeps the test's own connection working
	for _, l := range good {
		r, err := ParseHBARule(l)
		require.NoError(t, err, l)
		file = append(file, r.String())
	}
	for _, l := range bad {
		_, err := ParseHBARule(l)
		require.Error(t, err, l)
		file = append(file, l)
	}
	pg.writeFile("pg_hba.conf", strings.Join(file, "\n")+"\n")

	out := pg.run("psql", "-X", "-At", "-h", sock, "-p", port, "-U", "postgres", "-d", "postgres",
		"-c", "SELECT line_number || '|' || coalesce(error, '') FROM pg_hba_file_rules ORDER BY line_number")
	errs := map[int]string{}
	for _, row := range strings.Split(strings.TrimSpace(out), "\n") {
		n, msg, ok := strings.Cut(row, "|")
		require.True(t, ok, row)
		ln, err := strconv.Atoi(n)
		require.NoError(t, err)
		errs[ln] = msg
	}
	for i, l := range file {
		msg, seen := errs[i+1]
		require.True(t, seen, "line %d missing from pg_hba_file_rules: %s", i+1, l)
		if i <= len(good) {
			assert.Empty(t, msg, "PostgreSQL rejected canonical rule %q", l)
		} else {
			assert.NotEmpty(t, msg, "PostgreSQL accepted %q, which ParseHBARule rejects", l)
		}
	}
}
