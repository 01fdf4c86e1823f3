// Package pgbackrest is pgdock's pgbackrest plugin (pgdock-plugin-pgbackrest). See
// docs/plugins.md for what it configures and the variables it reads.
package pgbackrest
