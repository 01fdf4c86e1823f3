// Package example is pgdock's example plugin and the template for new ones.
// It exercises every hook of the plugin contract: it declares the EXAMPLE_*
// namespace, a static setting and a required program (psql), validates
// EXAMPLE_GREETING, contributes a setting, a pg_hba rule and a private file,
// records its first-boot bootstrap in a table, reports health, and logs the
// started and stopping hooks. Copy it to start a new plugin (docs/plugins.md
// says what to rename). Fault injection for the host's tests lives in a
// test-only plugin (plugins/sdk/internal/faulty), not here.
package example
