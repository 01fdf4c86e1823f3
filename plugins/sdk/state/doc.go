// Package state defines the entrypoint's state file: the one place where the
// running entrypoint tells other processes in the container (the healthcheck,
// operators) what phase it is in, where PostgreSQL listens and how to reattach
// to the plugins it started. The entrypoint is the only writer; writes are
// atomic (temporary file, fsync, rename) and the file is mode 0640.
package state
