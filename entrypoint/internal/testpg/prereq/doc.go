// Package prereq is how a test says that a prerequisite is missing
// (PostgreSQL, root, the postgres OS user, a tool, Docker): a skip with the
// reason, or a failure when PGDOCK_TEST_REQUIRE=1, which `make test` sets, so
// that no test vanishes silently there. It imports nothing of pgdock, so any
// package's own tests can use it; tests that run PostgreSQL use testpg,
// which reports through it.
package prereq
