// Package bench is the benchmark behind `make bench`: it measures the
// entrypoint, the healthcheck and the plugin host side by side with the same
// PostgreSQL work done bare (initdb, pg_ctl, postgres, pg_isready), and
// reports medians and p95 against the performance budgets in DESIGN.md.
// Three suites (the -suites flag): direct (the above), patroni (three
// entrypoints in Patroni mode and a real etcd: start to a healthy cluster,
// failover after SIGTERM and kill -9 with Patroni's default and tuned
// timings, acknowledged writes lost) and pgbackrest (a full backup and a
// restore of a pgbench database, pgBackRest against pg_basebackup).
//
// Everything a run starts lives under one temporary directory: every
// process gets its own process group and a working directory inside it, and
// a sweep of /proc (processes whose cwd is inside the directory, plus the
// plugin pids the state file names) ends whatever is left on every exit path
// before the directory is removed.
package bench
