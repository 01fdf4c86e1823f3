// Package pgbackrest is pgdock's pgbackrest plugin (pgdock-plugin-pgbackrest,
// PGBACKREST_ENABLE=true): it renders pgBackRest's configuration from the
// environment (config.go, ini.go, render.go), turns WAL archiving on through
// the host, creates the stanza on the primary (stanza.go), declares the
// backup jobs the host runs on a schedule or on demand, restores instead of
// initdb as a bootstrap provider, and reports archiving, the repository, the
// last backup and the jobs in its health (health.go). Every pgbackrest
// process it starts or describes gets a deliberate environment: pgBackRest
// reads PGBACKREST_* variables as its own options. See docs/backup.md.
package pgbackrest
