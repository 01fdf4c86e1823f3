// Package pgstatmonitor is pgdock's pg-stat-monitor plugin (pgdock-plugin-pg-stat-monitor). See
// docs/plugins.md for what it configures and the variables it reads.
package pgstatmonitor
