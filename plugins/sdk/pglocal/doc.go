// Package pglocal opens a session on the local PostgreSQL server over its
// unix socket, as described by the sdk.Conn a hook receives. Plugins that
// talk to the server (citus, pg-stat-monitor, pgbackrest) use it instead of
// building connection strings themselves.
package pglocal
