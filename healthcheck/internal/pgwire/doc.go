// Package pgwire is a minimal PostgreSQL wire-protocol client that answers
// one question the way libpq's PQping (pg_isready) does: does the server
// accept connections? It sends a protocol 3.0 StartupMessage without asking
// for SSL and reads the first answer: an authentication request means yes, an
// ErrorResponse with SQLSTATE 57P03 (cannot_connect_now: starting up,
// shutting down, recovery without hot standby) means not now, any other
// ErrorResponse means yes (the server is up and judged the login). It never
// sends a password: on a password request it closes the connection, which
// PostgreSQL does not log; under trust it reads to ReadyForQuery and sends
// Terminate, as libpq does, so the server logs nothing either.
package pgwire
