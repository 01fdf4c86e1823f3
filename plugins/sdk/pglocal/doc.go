// Package pglocal opens a pgx session on the local PostgreSQL server over
// its unix socket, as described by an sdk.Conn. Only the test harness
// sdktest/pgserver uses it: plugin code runs SQL with plugins/sdk/psql,
// because importing pglocal links pgx (some 4 MB) into the plugin bundle.
package pglocal
