// Package pgbin finds the PostgreSQL programs the entrypoint runs: the
// directory of `postgres` on PATH, or else the newest
// /usr/lib/postgresql/<major>/bin (Debian's layout).
package pgbin
