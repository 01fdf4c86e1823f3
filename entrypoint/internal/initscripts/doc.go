// Package initscripts runs /docker-entrypoint-initdb.d on first boot the way
// the official image does: files in sorted name order; `*.sh` executed when
// executable and otherwise sourced by bash with the official helper functions
// (docker_process_sql, file_env, the psql array) — exported variables a
// sourced script sets carry over to later scripts; `*.sql`, `*.sql.gz`,
// `*.sql.xz` and `*.sql.zst` fed to psql with ON_ERROR_STOP; anything else is
// ignored. The first failure stops the run.
package initscripts
