package sdk

import (
	"os"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// Serve runs impl as a pgdock plugin: it performs the go-plugin handshake
// (gRPC only, protocol version negotiated against the host's offer) and
// serves the hooks until the host shuts the plugin down. It does not return
// in normal operation. Call it last in main.
//
// Nothing may be written to stdout before Serve: stdout carries the
// handshake line. After Serve starts, os.Stdout and os.Stderr are redirected
// to the host (which logs them); use NewLogger for structured logs.
func Serve(impl Plugin) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           NewLogger("go-plugin"),
	})
}

// NewLogger returns the logger plugins should use. It writes hclog JSON
// lines to the process's original stderr; the host parses them and logs each
// at its level, tagged with the plugin's name. The level comes from the
// host (PGDOCK_PLUGIN_LOG_LEVEL), default info.
//
// Create loggers before calling Serve: Serve replaces os.Stderr with a pipe
// whose lines the host logs as plain warnings.
func NewLogger(name string) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv(EnvLogLevel))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      level,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}
