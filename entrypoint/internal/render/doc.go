// Package render writes the configuration pgdock manages, regenerated on
// every start and reload: PGDATA/pgdock.conf (included last from
// postgresql.conf, so ALTER SYSTEM still wins) and PGDATA/pgdock_hba.conf
// (PG_HBA_ADD_<n> rules, the user's PGCONFIG/pg_hba.conf, plugin rules, then
// PGDATA/pg_hba.conf). Removing a variable therefore reverts its setting, and
// no user file is ever overwritten.
package render
