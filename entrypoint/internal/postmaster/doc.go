// Package postmaster runs one PostgreSQL server process as a child: start it
// in its own process group with its output passed through untouched, watch
// postmaster.pid until it reports ready (waiting as long as the process
// lives, so a long crash recovery is never cut short), and stop it along an
// escalation ladder (smart → fast → immediate → SIGKILL) inside a budget.
package postmaster
