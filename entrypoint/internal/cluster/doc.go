// Package cluster owns PGDATA's first boot: the initialised test, initdb
// (password through a private file, an nss_wrapper passwd entry for uids
// without one), pg_hba and pg_ident set-up, the socket-only temporary server,
// POSTGRES_DB, plugin bootstrap hooks and init scripts — and the marker that
// keeps a failed first boot from being silently skipped on the next start.
package cluster
