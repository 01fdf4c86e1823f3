// Package pgconf encodes and validates the small pieces of PostgreSQL
// configuration syntax that pgdock writes: parameter names and quoted values
// for postgresql.conf (following the lexer in PostgreSQL's guc-file.l) and
// single pg_hba.conf rules (following the tokenizer and parser in
// PostgreSQL 15's hba.c). It is pure: no I/O, no knowledge of environment
// variables. Package config imports it, never the reverse.
package pgconf
