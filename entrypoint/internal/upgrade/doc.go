// Package upgrade is the in-place major upgrade of PGDATA with pg_upgrade
// (PGDOCK_UPGRADE=true, or `pgdock-entrypoint upgrade`): it reads the old
// cluster (PG_VERSION, pg_controldata, a socket-only start of the old
// server for its superuser, locale and extensions), initdb's a new cluster
// with the same settings in a staging directory inside PGDATA, runs
// `pg_upgrade --check` and then pg_upgrade (copy, link or clone), starts the
// new server and checks that it answers, rebuilds statistics
// (vacuumdb --analyze-in-stages), and only then swaps the clusters with
// renames, keeping the old one. Every step is recorded in a state file
// beside the staging directory, so a start after a crash either rolls the
// volume back to the old cluster or finishes the upgrade (docs/upgrades.md
// goes through every step).
package upgrade
