// Package testpg helps tests run real PostgreSQL 15 on this host: it finds
// the binaries, makes temporary directories owned by the postgres OS user
// when the tests run as root, runs initdb and picks free ports. Tests that
// lack a prerequisite (PostgreSQL, root, the postgres OS user, a tool) end
// through Missing: skipped with the reason, or failed when
// PGDOCK_TEST_REQUIRE=1 (what `make test` sets).
package testpg
