// Package pgtest runs real PostgreSQL 15 servers for the healthcheck's tests
// and benchmarks: it finds the binaries, makes directories the postgres OS
// user owns when tests run as root, runs initdb, starts a socket-only server
// (listen_addresses empty) on a private socket directory and stops it. It is
// for tests only. When a prerequisite is missing (Find fails, no root, no
// tool) callers end the test through Missing: a skip with the reason, or a
// failure when PGDOCK_TEST_REQUIRE=1 (what `make test` sets).
package pgtest
