// Package sdk is the contract between pgdock and its plugins: the go-plugin
// handshake and protocol versions, the Go types every hook exchanges, Serve for
// plugin authors, a typed host-side Client and ProbeHealth for the
// healthcheck. The wire format is the gRPC service in proto/pgdock/plugin/v1;
// plugin authors implement the Plugin interface (embedding Base for hooks they
// do not need) and call Serve from main. See docs/plugins.md.
package sdk
