package pglocal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// ConnectTimeout bounds the connection attempt when ctx has no earlier
// deadline.
const ConnectTimeout = 10 * time.Second

// Config is the pgx configuration of a session on c's socket as c.User, in
// database (c.Database when empty, then "postgres"), named application in
// pg_stat_activity. Values are set as fields, never spliced into a
// connection string.
func Config(c sdk.Conn, database, application string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig("")
	if err != nil {
		return nil, fmt.Errorf("local connection settings: %w", err)
	}
	if database == "" {
		database = c.Database
	}
	if database == "" {
		database = "postgres"
	}
	cfg.Host, cfg.Port, cfg.User, cfg.Database = c.SocketDir, uint16(c.Port), c.User, database
	cfg.Password = ""
	cfg.TLSConfig, cfg.Fallbacks = nil, nil
	cfg.ConnectTimeout = ConnectTimeout
	cfg.RuntimeParams = map[string]string{"application_name": application}
	return cfg, nil
}

// Connect opens a session (see Config).
func Connect(ctx context.Context, c sdk.Conn, database, application string) (*pgx.Conn, error) {
	cfg, err := Config(c, database, application)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database %q: %w", cfg.Database, err)
	}
	return conn, nil
}
