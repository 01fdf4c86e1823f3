// Package pidfile reads PostgreSQL's postmaster.pid, whose last line carries
// the postmaster's status ("starting", "ready", "standby", "stopping"). It is
// what `pg_ctl start -w` watches, and the entrypoint watches it the same way
// (only more often), so readiness costs no connection and no log line.
package pidfile
