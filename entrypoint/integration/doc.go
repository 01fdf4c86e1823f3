// Package integration runs the built pgdock-entrypoint binary against real
// PostgreSQL 15 on this host: first boot, init scripts, restarts, signals,
// crashes, secrets, arbitrary uids and sleep mode. Every test gets its own
// PGDATA, port, socket and state directories. Tests skip, saying why, when
// PostgreSQL is not installed.
package integration
