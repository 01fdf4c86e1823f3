package citus

import (
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

// CatalogSchema is where Citus keeps its functions and catalog tables.
const CatalogSchema = "pg_catalog"

// Extension is the extension the plugin creates.
const Extension = "citus"

// SQL builds the statements the plugin issues. Identifiers are quoted with
// psql.Ident; every value is a psql variable (:'database', :'host',
// :'port', :'role', :'authinfo'), quoted by psql. Citus's functions and
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
	return psql.Ident(s, name)
}

// DatabaseExists asks whether database :'database' exists.
const DatabaseExists = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = :'database')"

// CreateDatabase creates a database (CREATE DATABASE takes no parameters:
// the name is a quoted identifier).
func CreateDatabase(name string) string {
	return "CREATE DATABASE " + psql.Ident(name)
}

// NodeRegistered asks the coordinator whether node host:port is in pg_dist_node.
func (q SQL) NodeRegistered() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_node") + " WHERE nodename = :'host' AND nodeport = :'port'::integer)"
}

// AddNode registers node host:port with the coordinator.
func (q SQL) AddNode() string {
	return "SELECT " + q.obj("citus_add_node") + "(:'host'::text, :'port'::integer)"
}

// CoordinatorRecorded asks whether the coordinator's own entry (group 0)
// is host:port.
func (q SQL) CoordinatorRecorded() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_node") + " WHERE groupid = 0 AND nodename = :'host' AND nodeport = :'port'::integer)"
}

// SetCoordinatorHost records the coordinator's own address host:port.
func (q SQL) SetCoordinatorHost() string {
	return "SELECT " + q.obj("citus_set_coordinator_host") + "(:'host'::text, :'port'::integer)"
}

// Workers lists the primary worker nodes with their state.
func (q SQL) Workers() string {
	return "SELECT nodename::text, nodeport::integer, isactive FROM " + q.obj("pg_dist_node") +
		" WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodename, nodeport"
}

// UpdateAuthinfo sets the connection options :'authinfo' Citus uses for
// role :'role' towards every node (nodeid 0); InsertAuthinfo adds them when the update
// found no row.
func (q SQL) UpdateAuthinfo() string {
	return "UPDATE " + q.obj("pg_dist_authinfo") + " SET authinfo = :'authinfo' WHERE nodeid = 0 AND rolename = :'role' AND authinfo IS DISTINCT FROM :'authinfo'"
}

// AuthinfoExists asks whether role :'role' has an entry for every node.
func (q SQL) AuthinfoExists() string {
	return "SELECT EXISTS (SELECT 1 FROM " + q.obj("pg_dist_authinfo") + " WHERE nodeid = 0 AND rolename = :'role')"
}

// InsertAuthinfo adds role :'role”s connection options :'authinfo' for
// every node.
func (q SQL) InsertAuthinfo() string {
	return "INSERT INTO " + q.obj("pg_dist_authinfo") + " (nodeid, rolename, authinfo) VALUES (0, :'role', :'authinfo')"
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
