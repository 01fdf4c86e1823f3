// Package pgversion is the one place that knows how PostgreSQL's major
// versions differ for pgdock: which major a data directory was made by
// (PG_VERSION) and which one a server binary is (the Debian layout
// /usr/lib/postgresql/<major>/bin, else `postgres --version`); the facts
// that depend on the major (wal_keep_size or wal_keep_segments, data
// checksums on by default from 18, the official images' PGDATA layout); and
// the refusal of a data directory made by another major (MismatchError),
// which pg_upgrade, not the server, must handle. docs/images.md lists the
// facts per major.
package pgversion
