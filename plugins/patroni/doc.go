// Package patroni is pgdock's Patroni mode provider. With PATRONI_ENABLE=true
// the entrypoint supervises Patroni instead of postgres: this plugin reads
// the patroni variables of the contract (Config), renders patroni.yml with a
// real YAML encoder (Render), returns the Patroni command with a deliberately
// built environment (ModeCommand) and answers readiness, role and health
// from Patroni's REST API (ModeStatus, Health).
package patroni
