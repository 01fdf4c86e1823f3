// Package check holds the healthcheck's checks and their verdicts. A Runner
// reads the entrypoint's state file (package state), gates on its phase so
// the socket-only temporary server of a first boot never counts as ready,
// pings PostgreSQL with package pgwire, asks plugins through a PluginProber,
// and judges disk space and processes. Every check yields a Report: healthy
// or not, one short message, and the components it looked at.
package check
