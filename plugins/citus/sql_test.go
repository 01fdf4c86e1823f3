package citus

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/plugins/sdk/psql"
)

func TestSQLQuotesIdentifiersAndUsesVariables(t *testing.T) {
	real := SQL{}
	assert.Equal(t, `SELECT "pg_catalog"."citus_add_node"(:'host'::text, :'port'::integer)`, real.AddNode())
	assert.Equal(t, `SELECT EXISTS (SELECT 1 FROM "pg_catalog"."pg_dist_node" WHERE nodename = :'host' AND nodeport = :'port'::integer)`, real.NodeRegistered())
	assert.Equal(t, `SELECT "pg_catalog"."citus_set_coordinator_host"(:'host'::text, :'port'::integer)`, real.SetCoordinatorHost())
	assert.Equal(t, `SELECT EXISTS (SELECT 1 FROM "pg_catalog"."pg_dist_node" WHERE groupid = 0 AND nodename = :'host' AND nodeport = :'port'::integer)`, real.CoordinatorRecorded())
	assert.Equal(t, `INSERT INTO "pg_catalog"."pg_dist_authinfo" (nodeid, rolename, authinfo) VALUES (0, :'role', :'authinfo')`, real.InsertAuthinfo())
	assert.Contains(t, real.Workers(), `FROM "pg_catalog"."pg_dist_node" WHERE groupid <> 0 AND noderole = 'primary'`)
	assert.Contains(t, DatabaseExists, `datname = :'database'`)

	odd := SQL{Schema: `we"ird`}
	assert.Equal(t, `SELECT "we""ird"."citus_add_node"(:'host'::text, :'port'::integer)`, odd.AddNode())
	assert.Equal(t, `CREATE DATABASE "a""b; DROP TABLE x"`, CreateDatabase(`a"b; DROP TABLE x`))
}

func TestConninfoQuoting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `'plain'`},
		{"it's", `'it\'s'`},
		{`back\slash`, `'back\\slash'`},
		{"sp ace", `'sp ace'`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, conninfoValue(tt.in))
	}
	assert.Equal(t, `password='p\'a\\ss word'`, conninfo("password", `p'a\ss word`, "sslmode", ""))
}

// A worker reaches its coordinator over TCP with the password and sslmode
// it was given, within 5 s.
func TestCoordinatorTarget(t *testing.T) {
	c := Config{CoordinatorHost: "coord", CoordinatorPort: 6432, CoordinatorUser: "u s'er", CoordinatorPassword: `p'a\ss word`,
		Database: "d b", CoordinatorSSLMode: "verify-full"}
	assert.Equal(t, psql.Target{Host: "coord", Port: 6432, User: "u s'er", Password: `p'a\ss word`, Database: "d b",
		SSLMode: "verify-full", Application: application, ConnectTimeout: 5 * time.Second}, CoordinatorTarget(c))
}
