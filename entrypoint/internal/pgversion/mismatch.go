package pgversion

import (
	"errors"
	"fmt"
)

// MismatchError: PGDATA holds a cluster made by another major than the
// server's. PostgreSQL refuses to start on it ("database files are
// incompatible with server"); pgdock refuses earlier, before writing
// anything, and says what to do. Callers branch on it with errors.As (the
// upgrade path runs instead when it is requested).
type MismatchError struct {
	PGData string
	Data   Major // PG_VERSION
	Server Major // the image's postgres
}

// Older reports whether the data is older than the server: pg_upgrade can
// take it forward. A newer cluster needs the newer image (there is no
// downgrade).
func (e *MismatchError) Older() bool { return e.Data.Before(e.Server) }

func (e *MismatchError) Error() string {
	head := fmt.Sprintf("PGDATA %s holds a PostgreSQL %s cluster (its PG_VERSION), but this image runs PostgreSQL %s; nothing was changed. ",
		e.PGData, e.Data, e.Server)
	if !e.Data.IsSupported() {
		return head + fmt.Sprintf("pgdock builds images for PostgreSQL %s only: upgrade the data with a PostgreSQL %s image first (pg_upgrade, or pg_dumpall into a new volume), "+
			"then start this image with PGDOCK_UPGRADE=true if needed (docs/upgrades.md)", supportedList(), e.Data)
	}
	if e.Older() {
		return head + fmt.Sprintf("To keep using the data as it is, run the pgdock/postgres:%s image. "+
			"To upgrade it to %s in place, start this image once with PGDOCK_UPGRADE=true "+
			"(pg_upgrade; back the volume up first; docs/upgrades.md)", e.Data, e.Server)
	}
	return head + fmt.Sprintf("A cluster cannot be downgraded: run the pgdock/postgres:%s image (or a newer one, with PGDOCK_UPGRADE=true; docs/upgrades.md), "+
		"or restore a dump made with pg_dumpall into an empty PGDATA", e.Data)
}

// CheckDataDir compares the cluster in pgdata (if any) with the server's
// major: nil when there is no cluster yet (no PG_VERSION) or the majors
// match, a *MismatchError when they differ, another error when PG_VERSION
// cannot be read or parsed.
func CheckDataDir(pgdata string, server Major) error {
	data, err := FromDataDir(pgdata)
	if errors.Is(err, ErrNoVersion) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("PGDATA: %w", err)
	}
	if data == server {
		return nil
	}
	return &MismatchError{PGData: pgdata, Data: data, Server: server}
}

func supportedList() string {
	var s string
	for i, m := range Supported() {
		switch {
		case i == 0:
		case i == len(Supported())-1:
			s += " and "
		default:
			s += ", "
		}
		s += m.String()
	}
	return s
}
