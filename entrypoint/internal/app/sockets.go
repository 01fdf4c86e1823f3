package app

import (
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/pluginhost"
)

// shortSocketBase is where pgdock's own sockets go when PGDOCK_STATE_DIR is
// too long for them: a Unix socket path has at most 107 bytes, wherever the
// state directory is (a checkout deep in a home directory, a long volume
// path), so the limit must not fall on PGDOCK_STATE_DIR.
const shortSocketBase = "/tmp"

// socketHome is the directory for pgdock's own Unix sockets: the plugins'
// (plugins/) and the temporary bootstrap server's (bootstrap/). It is
// PGDOCK_STATE_DIR when socket paths under it fit; otherwise a private
// directory with a short random name under /tmp, made on first use (after
// the privilege drop, so it belongs to the server's user) and removed by
// cleanupSocketHome. The healthcheck finds plugin sockets through the state
// file, which records their full paths, so nothing else needs to know.
func (r *runner) socketHome() string {
	if r.sockHome != "" {
		return r.sockHome
	}
	r.sockHome = r.cfg.StateDir
	if len(filepath.Join(r.cfg.StateDir, "plugins")) <= pluginhost.MaxSocketDirLen {
		return r.sockHome
	}
	base := shortSocketBase
	if _, err := os.Stat(base); err != nil {
		base = os.TempDir()
	}
	d, err := os.MkdirTemp(base, "pgdock-")
	if err == nil {
		err = os.Chmod(d, 0o750) // the healthcheck's user reaches plugin sockets
	}
	if err != nil {
		r.log.Warn("cannot create a short private directory for sockets; using PGDOCK_STATE_DIR", zap.String("dir", r.cfg.StateDir), zap.Error(err))
		return r.sockHome
	}
	r.log.Debug("PGDOCK_STATE_DIR is too long for socket paths; sockets go to a private directory", zap.String("dir", d))
	r.sockHome = d
	return d
}

// cleanupSocketHome removes the private socket directory, if one was made.
func (r *runner) cleanupSocketHome() {
	if r.sockHome != "" && r.sockHome != r.cfg.StateDir {
		_ = os.RemoveAll(r.sockHome)
	}
}
