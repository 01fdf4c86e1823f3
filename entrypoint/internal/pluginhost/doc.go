// Package pluginhost starts, talks to and stops pgdock's plugins on the
// entrypoint side. Start finds the enabled plugins in PGDOCK_PLUGIN_DIR,
// refuses a directory, binary or SHA256SUMS that is a symbolic link or that
// anyone but root may write, hashes each binary through an open descriptor
// and starts exactly that file (by descriptor, never the path again) in its
// own process group (killed with the entrypoint), performs the go-plugin
// handshake (gRPC only, protocol version negotiated; abandoned at once when
// the context ends) and asks it to describe itself. The Manager then calls the hooks in lifecycle order, passing each
// plugin only the environment it declared, merges what plugins contribute
// (reporting conflicts), forwards their logs to zap at their level, reports
// unexpected exits on Crashed with the plugin's last output lines and the
// crash policy that applies, and stops them all, leaving no process behind.
// The contract is described in docs/plugins.md.
package pluginhost
