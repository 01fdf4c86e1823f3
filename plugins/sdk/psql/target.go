package psql

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/pgbin"
)

// DefaultConnectTimeout bounds the connection attempt (PGCONNECT_TIMEOUT)
// when a Target sets none.
const DefaultConnectTimeout = 10 * time.Second

// defaultPath is the child's PATH when the plugin has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Target is the server and session psql connects to.
type Target struct {
	// Host is a socket directory (an absolute path) or a host name or
	// address.
	Host string
	Port int
	User string
	// Database is the database connected to; "postgres" when empty.
	Database string
	// Application is application_name in pg_stat_activity.
	Application string
	// SSLMode is libpq's sslmode; empty is "disable" on a socket directory
	// and libpq's default (prefer) on a host.
	SSLMode string
	// Password, when set, is written to a 0600 passfile in a private
	// temporary directory (PGPASSFILE) for the run and removed after it:
	// never in argv, the environment, a log line or an error.
	Password string
	// ConnectTimeout is PGCONNECT_TIMEOUT (whole seconds, at least 2);
	// zero is DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Psql is the psql program; empty is Find's.
	Psql string
}

// Local is the session a hook opens on the local server over its unix
// socket (sdk.Conn), as c.User, in database (c.Database when empty, then
// "postgres"), named application.
func Local(c sdk.Conn, database, application string) Target {
	if database == "" {
		database = c.Database
	}
	return Target{Host: c.SocketDir, Port: c.Port, User: c.User, Database: database, Application: application}
}

func (t Target) database() string {
	if t.Database == "" {
		return "postgres"
	}
	return t.Database
}

func (t Target) sslMode() string {
	switch {
	case t.SSLMode != "":
		return t.SSLMode
	case strings.HasPrefix(t.Host, "/"):
		return "disable"
	}
	return ""
}

func (t Target) connectTimeout() string {
	d := t.ConnectTimeout
	if d <= 0 {
		d = DefaultConnectTimeout
	}
	s := int((d + time.Second - 1) / time.Second)
	return strconv.Itoa(max(s, 2)) // libpq takes 1 as 2
}

// env is psql's whole environment: nothing is inherited but PATH, so no
// PG* variable, secret or locale of the container reaches it. passfile is
// "" without a password.
func (t Target) env(passfile string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	env := []string{
		"PATH=" + path,
		"LC_ALL=C",
		"PGCLIENTENCODING=UTF8",
		"PGHOST=" + t.Host,
		"PGPORT=" + strconv.Itoa(t.Port),
		"PGUSER=" + t.User,
		"PGDATABASE=" + t.database(),
		"PGCONNECT_TIMEOUT=" + t.connectTimeout(),
	}
	if t.Application != "" {
		env = append(env, "PGAPPNAME="+t.Application)
	}
	if m := t.sslMode(); m != "" {
		env = append(env, "PGSSLMODE="+m)
	}
	if passfile != "" {
		env = append(env, "PGPASSFILE="+passfile)
	}
	return env
}

// Find returns the psql to run: the one in the server's bin directory
// (pgbin.FindBinDir), else psql on PATH.
func Find() (string, error) {
	if dir, err := pgbin.FindBinDir(nil, ""); err == nil {
		if c := filepath.Join(dir, "psql"); executable(c) {
			return c, nil
		}
	}
	return exec.LookPath("psql")
}

func executable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}
