package citus

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSQLQuotesIdentifiersAndUsesParameters(t *testing.T) {
	real := SQL{}
	assert.Equal(t, `SELECT "pg_catalog"."citus_add_node"($1::text, $2::integer)`, real.AddNode())
	assert.Equal(t, `SELECT EXISTS (SELECT 1 FROM "pg_catalog"."pg_dist_node" WHERE nodename = $1 AND nodeport = $2)`, real.NodeRegistered())
	assert.Equal(t, `SELECT "pg_catalog"."citus_set_coordinator_host"($1::text, $2::integer)`, real.SetCoordinatorHost())
	assert.Equal(t, `SELECT EXISTS (SELECT 1 FROM "pg_catalog"."pg_dist_node" WHERE groupid = 0 AND nodename = $1 AND nodeport = $2)`, real.CoordinatorRecorded())
	assert.Equal(t, `INSERT INTO "pg_catalog"."pg_dist_authinfo" (nodeid, rolename, authinfo) VALUES (0, $1, $2)`, real.InsertAuthinfo())
	assert.Contains(t, real.Workers(), `FROM "pg_catalog"."pg_dist_node" WHERE groupid <> 0 AND noderole = 'primary'`)

	odd := SQL{Schema: `we"ird`}
	assert.Equal(t, `SELECT "we""ird"."citus_add_node"($1::text, $2::integer)`, odd.AddNode())
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
	// pgx parses what we build back to the same values.
	tg := Target{Host: "coord", Port: 6432, User: "u s'er", Password: `p'a\ss word`, Database: "d b", SSLMode: "disable"}
	cfg, err := pgx.ParseConfig(tg.ConnString())
	require.NoError(t, err)
	assert.Equal(t, "coord", cfg.Host)
	assert.Equal(t, uint16(6432), cfg.Port)
	assert.Equal(t, "u s'er", cfg.User)
	assert.Equal(t, `p'a\ss word`, cfg.Password)
	assert.Equal(t, "d b", cfg.Database)
	assert.Nil(t, cfg.TLSConfig)
}
