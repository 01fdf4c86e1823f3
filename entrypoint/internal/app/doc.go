// Package app is the entrypoint's lifecycle: resolve the environment,
// classify the arguments, prepare directories and drop privileges, bootstrap
// PGDATA on first boot, render the managed configuration, then run and
// supervise PostgreSQL as PID 1 until a stop request or its exit. Sleep
// (maintenance) mode starts nothing and changes nothing.
package app
