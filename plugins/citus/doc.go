// Package citus is pgdock's citus plugin (pgdock-plugin-citus). See
// docs/plugins.md for what it configures and the variables it reads.
package citus
