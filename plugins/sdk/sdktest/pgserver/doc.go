// Package pgserver runs real PostgreSQL servers for plugin tests: one
// initdb per test binary (a template), copied for each test, started with
// pg_ctl on a loopback port and a private socket directory, as the postgres
// OS user when the tests run as root. A missing PostgreSQL ends the test
// through sdktest.Missing: a skip, or a failure under PGDOCK_TEST_REQUIRE=1.
package pgserver
