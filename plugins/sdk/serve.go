package sdk

import (
	"os"
	"path/filepath"
	"syscall"

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
	nameProcess()
	keepExecFD()
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

// nameProcess sets the process name (comm, what ps and top show) to the
// base name of argv[0]. pgdock-entrypoint executes the verified plugin file
// through /proc/self/fd/3, which would otherwise name the process "3"; argv
// itself is the plugin's path. The kernel keeps 15 bytes.
func nameProcess() {
	if f, err := os.OpenFile("/proc/self/comm", os.O_WRONLY, 0); err == nil {
		_, _ = f.WriteString(filepath.Base(os.Args[0]))
		_ = f.Close()
	}
}

// keepExecFD keeps the descriptor pgdock-entrypoint executed the plugin from
// (3, see nameProcess) out of the plugin's own children: it is marked
// close-on-exec when it is this very executable.
func keepExecFD() {
	var fd, exe syscall.Stat_t
	if syscall.Fstat(3, &fd) != nil || syscall.Stat("/proc/self/exe", &exe) != nil {
		return
	}
	if fd.Dev == exe.Dev && fd.Ino == exe.Ino {
		syscall.CloseOnExec(3)
	}
}
