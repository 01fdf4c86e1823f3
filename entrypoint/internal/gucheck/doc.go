// Package gucheck asks the installed PostgreSQL server whether it accepts a
// set of configuration parameters, without starting a server: it writes the
// settings as a postgresql.conf into an anonymous memory file and runs
// `postgres -C`, which loads that file with the server's own parameter list,
// types, units, ranges and check hooks and exits. Unknown names and
// rejected values come back per parameter, in PostgreSQL's words, with a
// close known name suggested for a typo (from `postgres --describe-config`).
// Dotted names (cron.database_name) are custom parameters, accepted as the
// server accepts them.
package gucheck
