package citus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// The variables the plugin reads (CITUS_ENABLE is read by the host).
const (
	EnvPrefix              = "CITUS_"
	EnvRole                = "CITUS_ROLE"
	EnvCoordinatorHost     = "CITUS_COORDINATOR_HOST"
	EnvCoordinatorPort     = "CITUS_COORDINATOR_PORT"
	EnvCoordinatorUser     = "CITUS_COORDINATOR_USER"
	EnvCoordinatorPassword = "CITUS_COORDINATOR_PASSWORD"
	EnvCoordinatorSSLMode  = "CITUS_COORDINATOR_SSLMODE"
	EnvAdvertiseHost       = "CITUS_ADVERTISE_HOST"
	EnvAdvertisePort       = "CITUS_ADVERTISE_PORT"
	EnvDatabase            = "CITUS_DATABASE"
	EnvAutoRegister        = "CITUS_AUTO_REGISTER"
	EnvGroup               = "CITUS_GROUP"
	EnvPostgresDB          = "POSTGRES_DB"
	EnvPostgresUser        = "POSTGRES_USER"
	EnvPostgresPassword    = "POSTGRES_PASSWORD"
	EnvPatroniEnable       = "PATRONI_ENABLE"
)

// Roles.
const (
	RoleCoordinator = "coordinator"
	RoleWorker      = "worker"
)

// Config is the plugin's configuration, from the declared environment.
type Config struct {
	Role string // coordinator or worker; empty under Patroni (Group set)
	// Coordinator is where a worker registers (worker only).
	CoordinatorHost string
	CoordinatorPort int
	// CoordinatorUser and CoordinatorPassword authenticate the worker to
	// the coordinator: default POSTGRES_USER (postgres) and
	// POSTGRES_PASSWORD, the superuser every node shares.
	CoordinatorUser     string
	CoordinatorPassword string
	CoordinatorSSLMode  string // libpq sslmode, default prefer
	// AdvertiseHost/Port is how the other nodes reach this one; empty/0
	// mean the host name and the server's port (resolved at start).
	AdvertiseHost string
	AdvertisePort int
	Database      string // CITUS_DATABASE, default POSTGRES_DB (postgres)
	AutoRegister  bool
	// Group is CITUS_GROUP: set means Patroni manages the Citus cluster
	// (the plugin contributes Patroni's citus section and does no SQL).
	Group    int
	HasGroup bool
}

// Patroni reports whether Patroni manages membership (CITUS_GROUP set).
func (c Config) Patroni() bool { return c.HasGroup }

var sslModes = []string{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}

// hostName is a DNS name or an IP address, no spaces or quotes.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._:-]{0,252})$`)

// Load reads the declared environment and reports every problem.
func Load(env map[string]string) (Config, []sdk.Problem) {
	var problems []sdk.Problem
	bad := func(v, format string, a ...any) {
		problems = append(problems, sdk.Problem{Var: v, Message: fmt.Sprintf(format, a...)})
	}
	get := func(k string) string { return strings.TrimSpace(env[k]) }
	c := Config{
		Role:                strings.ToLower(get(EnvRole)),
		CoordinatorHost:     get(EnvCoordinatorHost),
		CoordinatorPort:     5432,
		CoordinatorUser:     get(EnvCoordinatorUser),
		CoordinatorSSLMode:  strings.ToLower(get(EnvCoordinatorSSLMode)),
		AdvertiseHost:       get(EnvAdvertiseHost),
		Database:            get(EnvDatabase),
		AutoRegister:        true,
		CoordinatorPassword: env[EnvCoordinatorPassword],
	}
	if c.CoordinatorUser == "" {
		c.CoordinatorUser = get(EnvPostgresUser)
	}
	if c.CoordinatorUser == "" {
		c.CoordinatorUser = "postgres"
	}
	if c.CoordinatorPassword == "" {
		c.CoordinatorPassword = env[EnvPostgresPassword]
	}
	if c.CoordinatorSSLMode == "" {
		c.CoordinatorSSLMode = "prefer"
	} else if !contains(sslModes, c.CoordinatorSSLMode) {
		bad(EnvCoordinatorSSLMode, "%q is not a libpq sslmode; use one of %s", env[EnvCoordinatorSSLMode], strings.Join(sslModes, ", "))
	}
	if c.Database == "" {
		c.Database = get(EnvPostgresDB)
	}
	if c.Database == "" {
		c.Database = get(EnvPostgresUser)
	}
	if c.Database == "" {
		c.Database = "postgres"
	}
	if strings.ContainsRune(c.Database, 0) || len(c.Database) > 63 {
		bad(EnvDatabase, "database name must be at most 63 bytes without NUL")
	}
	if v := get(EnvAutoRegister); v != "" {
		b, err := sdk.ParseBool(v)
		if err != nil {
			bad(EnvAutoRegister, "%q is not a boolean (true or false)", v)
		}
		c.AutoRegister = b
	}
	if v := get(EnvGroup); v != "" {
		g, err := strconv.Atoi(v)
		if err != nil || g < 0 {
			bad(EnvGroup, "%q is not a Citus group number (0 for the coordinator's group, 1, 2, … for workers)", v)
		}
		c.Group, c.HasGroup = g, true
	}
	if v := get(EnvCoordinatorPort); v != "" {
		c.CoordinatorPort = port(v, EnvCoordinatorPort, bad)
	}
	if v := get(EnvAdvertisePort); v != "" {
		c.AdvertisePort = port(v, EnvAdvertisePort, bad)
	}
	if c.AdvertiseHost != "" && !hostName.MatchString(c.AdvertiseHost) {
		bad(EnvAdvertiseHost, "%q is not a host name or address", c.AdvertiseHost)
	}
	if c.CoordinatorHost != "" && !hostName.MatchString(c.CoordinatorHost) {
		bad(EnvCoordinatorHost, "%q is not a host name or address", c.CoordinatorHost)
	}
	patroni, _ := sdk.ParseBool(get(EnvPatroniEnable))
	if c.HasGroup && !patroni {
		bad(EnvGroup, "is for Patroni mode (%s=true), where Patroni manages the Citus cluster; without Patroni unset it and set %s", EnvPatroniEnable, EnvRole)
	}
	switch {
	case c.HasGroup:
		// Patroni's citus support decides the role from the group (0 is
		// the coordinator's) and manages the nodes; CITUS_ROLE may agree.
		if c.Role != "" {
			want := RoleWorker
			if c.Group == 0 {
				want = RoleCoordinator
			}
			if c.Role != want {
				bad(EnvRole, "%q contradicts %s=%d (group 0 is the coordinator's, other groups are workers); unset %s under Patroni", c.Role, EnvGroup, c.Group, EnvRole)
			}
			c.Role = want
		}
	case c.Role == "":
		bad(EnvRole, "required: coordinator or worker (or set %s to let Patroni manage the Citus cluster)", EnvGroup)
	case c.Role == RoleCoordinator:
	case c.Role == RoleWorker:
		if c.AutoRegister && c.CoordinatorHost == "" {
			bad(EnvCoordinatorHost, "required for a worker that registers itself (%s=true): the coordinator's host name", EnvAutoRegister)
		}
	default:
		bad(EnvRole, "%q is not a Citus role; use coordinator or worker", env[EnvRole])
	}
	return c, problems
}

func port(v, name string, bad func(string, string, ...any)) int {
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		bad(name, "%q is not a TCP port (1-65535)", v)
		return 0
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
