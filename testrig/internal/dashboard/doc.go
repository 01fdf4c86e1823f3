// Package dashboard builds pgdock's Grafana dashboard for PostgreSQL with the
// Grafana Foundation SDK, so the JSON that compose/monitoring provisions is
// generated from code, not written by hand (cmd/pgdock-dashboards writes it).
package dashboard
