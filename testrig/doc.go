// Package testrig is the root of pgdock's container test rig.
//
// The rig loads the compose files users run (compose/) with compose-go, brings
// the stacks up through the Docker Engine API (its own small driver in
// internal/engine, never a docker or docker-compose CLI), checks them from
// outside and measures startup and shutdown against budgets. The command is
// cmd/testrig; scenarios are registered in internal/scenario/registry.go.
package testrig
