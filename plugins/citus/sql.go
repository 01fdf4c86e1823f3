package citus

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CatalogSchema is where Citus keeps its functions and catalog tables.
const CatalogSchema = "pg_catalog"

// Extension is the extension the plugin creates.
const Extension = "citus"

// SQL builds the statements the plugin issues. Identifiers are quoted with
// pgx.Identifier; every value is a query parameter. Citus's functions and
// tables are schema-qualified (pg_catalog in a real Citus), so a user's
// search_path cannot redirect them; tests point Schema at stand-ins.
type SQL struct {
	Schema string
}

func (q SQL) obj(name string) string {
	s := q.Schema
	if s == "" {
		s = CatalogSchema
	}
	return pgx.Identifier{s, name}.Sanitize()
}

// DatabaseExists asks whether database $1 exists.
const DatabaseExists = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1)"

// CreateDatabase creates a database (CREATE DATABASE takes no parameters:
// the name is a quoted identifier).
func CreateDatabase(name string) string {
	return "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
}

// NodeRegistered asks the coordinator whether node $1:$2 is in pg_dist_node.
func (q SQL) NodeRegistered() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_node") + " WHERE nodename = $1 AND nodeport = $2)"
}

// AddNode registers node $1:$2 with the coordinator.
func (q SQL) AddNode() string {
	return "SELECT " + q.obj("citus_add_node") + "($1::text, $2::integer)"
}

// CoordinatorRecorded asks whether the coordinator's own entry (group 0)
// is $1:$2.
func (q SQL) CoordinatorRecorded() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_node") + " WHERE groupid = 0 AND nodename = $1 AND nodeport = $2)"
}

// SetCoordinatorHost records the coordinator's own address $1:$2.
func (q SQL) SetCoordinatorHost() string {
	return "SELECT " + q.obj("citus_set_coordinator_host") + "($1::text, $2::integer)"
}

// Workers lists the primary worker nodes with their state.
func (q SQL) Workers() string {
	return "SELECT nodename::text, nodeport::integer, isactive FROM " + q.obj("pg_dist_node") +
		" WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodename, nodeport"
}

// UpdateAuthinfo sets the connection options ($2) Citus uses for role $1
// towards every node (nodeid 0); InsertAuthinfo adds them when the update
// found no row.
func (q SQL) UpdateAuthinfo() string {
	return "UPDATE " + q.obj("pg_dist_authinfo") + " SET authinfo = $2 WHERE nodeid = 0 AND rolename = $1 AND authinfo IS DISTINCT FROM $2"
}

// AuthinfoExists asks whether role $1 has an entry for every node.
func (q SQL) AuthinfoExists() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_authinfo") + " WHERE nodeid = 0 AND rolename = $1)"
}

// InsertAuthinfo adds role $1's connection options $2 for every node.
func (q SQL) InsertAuthinfo() string {
	return "INSERT INTO " + q.obj("pg_dist_authinfo") + " (nodeid, rolename, authinfo) VALUES (0, $1, $2)"
}

// conninfoValue quotes a value for a libpq keyword/value connection
// string: single quotes, with backslash and quote escaped.
func conninfoValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// conninfo builds a libpq keyword/value string from pairs, every value
// quoted; empty values are left out.
func conninfo(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			parts = append(parts, kv[i]+"="+conninfoValue(kv[i+1]))
		}
	}
	return strings.Join(parts, " ")
}

// Target is the coordinator a worker connects to.
type Target struct {
	Host, User, Password, Database, SSLMode string
	Port                                    int
}

// ConnString is the target as a libpq connection string (it holds the
// password: never log it).
func (t Target) ConnString() string {
	return conninfo("host", t.Host, "port", strconv.Itoa(t.Port), "user", t.User, "password", t.Password,
		"dbname", t.Database, "sslmode", t.SSLMode, "connect_timeout", "5", "application_name", application)
}
