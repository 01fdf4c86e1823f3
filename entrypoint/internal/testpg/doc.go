// Package testpg helps tests run real PostgreSQL 15 on this host: it finds
// the binaries, makes temporary directories owned by the postgres OS user
// when the tests run as root, runs initdb and picks free ports. Tests that
// cannot get a PostgreSQL installation are skipped with the reason.
package testpg
