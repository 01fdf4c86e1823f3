package sdk

import (
	plugin "github.com/hashicorp/go-plugin"
)

// Handshake constants shared by the host and every plugin. They are the wire
// contract: changing one makes every plugin and host built before refuse
// each other, so TestHandshakeWireContract pins them as literals. The magic
// cookie is not a security measure: it only makes a plugin binary refuse to
// run when started by hand.
const (
	MagicCookieKey   = "PGDOCK_PLUGIN_MAGIC_COOKIE"
	MagicCookieValue = "b7e1f3c2-pgdock-plugin-9d4a"

	// ProtocolVersion is the plugin protocol this SDK speaks (package
	// pgdock.plugin.v1). It is negotiated during the handshake: the host
	// offers every version it supports, the plugin picks the newest it
	// shares, and the host refuses a plugin that shares none.
	ProtocolVersion = 1

	// PluginName is the go-plugin dispense name of the pgdock service.
	PluginName = "pgdock"
)

// Environment variables the host sets on every plugin process (besides the
// ones go-plugin itself needs).
const (
	// EnvPluginName carries the plugin's name (from its binary name).
	EnvPluginName = "PGDOCK_PLUGIN_NAME"
	// EnvLogLevel carries the host's log level (trace, debug, info, warn,
	// error); NewLogger reads it so plugins do not produce lines the host
	// would drop anyway.
	EnvLogLevel = "PGDOCK_PLUGIN_LOG_LEVEL"
)

// SupportedVersions lists the protocol versions this SDK can speak, newest
// first.
func SupportedVersions() []int { return []int{ProtocolVersion} }

// Handshake returns the go-plugin handshake configuration. ProtocolVersion is
// left to VersionedPlugins so that versions are negotiated.
func Handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		MagicCookieKey:   MagicCookieKey,
		MagicCookieValue: MagicCookieValue,
	}
}

// HostPluginSets returns the plugin sets a host offers, one per supported
// protocol version, for plugin.ClientConfig.VersionedPlugins. Dispensing
// PluginName from the resulting client yields a *Client.
func HostPluginSets() map[int]plugin.PluginSet {
	sets := make(map[int]plugin.PluginSet, len(SupportedVersions()))
	for _, v := range SupportedVersions() {
		sets[v] = plugin.PluginSet{PluginName: &GRPCPlugin{}}
	}
	return sets
}
