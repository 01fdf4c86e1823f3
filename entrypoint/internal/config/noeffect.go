package config

import "fmt"

// noEffect lists variables of the old shell container that pgdock accepts
// but ignores, with the reason logged when one is set.
var noEffect = []struct{ Var, Why string }{
	{"PGLOG", "PostgreSQL logs to the container output; the old container never wrote to this directory either"},
	{"POSTGRES_GROUP", "the server runs as the postgres OS user and its group (or the uid:gid given with --user)"},
	{"STRICT_PERMISSIONS", "pgdock always enforces ownership and modes (PGDATA 0700, secret files 0600/0640)"},
	{"POSTGRESQL_READY_MAX_ATTEMPTS", "pgdock waits for readiness as long as the postmaster is alive, so a long crash recovery is not a failure"},
	{"POSTGRESQL_READY_ATTEMPT_INTERVAL", "pgdock waits for readiness as long as the postmaster is alive, with no fixed attempt budget"},
	{"TIMEOUT_CHANGE_PASSWORD", "the superuser password is set by initdb at first boot, not by a separate psql call"},
}

func (l *loader) warnNoEffect() {
	for _, n := range noEffect {
		if _, ok := l.get(n.Var); ok {
			l.warn(fmt.Sprintf("%s has no effect in pgdock: %s; remove it", n.Var, n.Why))
		}
	}
}
