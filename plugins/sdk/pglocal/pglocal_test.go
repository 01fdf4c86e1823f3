package pglocal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestConfig(t *testing.T) {
	t.Setenv("PGHOST", "elsewhere.example")
	t.Setenv("PGSSLMODE", "require")
	c := sdk.Conn{SocketDir: "/run/postgresql dir", Port: 5433, User: "we'ird", Database: "app"}
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
			cfg, err := Config(tt.conn, tt.database, "pgdock-test")
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Database)
			assert.Equal(t, tt.conn.SocketDir, cfg.Host, "the socket, whatever PGHOST says")
			assert.Equal(t, uint16(tt.conn.Port), cfg.Port)
			assert.Equal(t, tt.conn.User, cfg.User)
			assert.Nil(t, cfg.TLSConfig, "no TLS on a unix socket, whatever PGSSLMODE says")
			assert.Empty(t, cfg.Fallbacks)
			assert.Equal(t, 10*time.Second, cfg.ConnectTimeout)
			assert.Equal(t, "pgdock-test", cfg.RuntimeParams["application_name"])
		})
	}
}
