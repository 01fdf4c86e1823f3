// Package probe asks a running pgdock plugin for its health, for
// pgdock-healthcheck. It reattaches with the data from the entrypoint's state
// file, performs one gRPC unary call (Plugin/Health) over the plugin's socket
// and closes its own connection: it never starts, shuts down or kills the
// plugin. To keep the healthcheck's process start in the low milliseconds it
// speaks the few HTTP/2 frames a unary call needs itself (HPACK from
// golang.org/x/net, protobuf wire decoding from protowire) instead of
// importing grpc-go, whose initialisation alone costs about 3 ms, and
// instead of net/http's unencrypted HTTP/2, measured slower (h2.go says why).
// The package sdk re-exports it as sdk.ProbeHealth.
package probe
