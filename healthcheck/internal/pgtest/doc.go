// Package pgtest runs real PostgreSQL 15 servers for the healthcheck's tests
// and benchmarks: it finds the binaries, makes directories the postgres OS
// user owns when tests run as root, runs initdb, starts a socket-only server
// (listen_addresses empty) on a private socket directory and stops it. It is
// for tests only; callers skip with the reason when Find fails.
package pgtest
