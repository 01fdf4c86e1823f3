package bench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sandbox is one data directory with everything around it. Its parents are
// traversable (0755) so the postgres user can reach PGDATA.
type sandbox struct {
	root     string
	data     string // PGDATA
	sock     string // unix socket directory
	state    string // PGDOCK_STATE_DIR
	initDir  string // PGDOCK_INITDB_DIR, empty
	conf     string // PGCONFIG, empty
	logDir   string // server and command logs, writable by the server user
	port     int
	password string
}

// newSandbox creates a sandbox under the run's top directory.
func (r *rig) newSandbox(name string) (*sandbox, error) {
	root := filepath.Join(r.top, r.nextName(name))
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	sb := &sandbox{
		root:    root,
		data:    filepath.Join(root, "data"),
		sock:    filepath.Join(root, "sock"),
		state:   filepath.Join(root, "state"),
		initDir: filepath.Join(root, "initdb.d"),
		conf:    filepath.Join(root, "conf"),
		logDir:  filepath.Join(root, "log"),
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, fmt.Errorf("create sandbox: %w", err)
	}
	for _, d := range []string{sb.initDir, sb.conf, sb.logDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("create sandbox: %w", err)
		}
	}
	if err := r.chown(sb.logDir); err != nil {
		return nil, err
	}
	var err error
	if sb.port, err = freePort(); err != nil {
		return nil, err
	}
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return nil, fmt.Errorf("generate a password: %w", err)
	}
	sb.password = hex.EncodeToString(pw)
	return sb, nil
}

// prepareBare creates what the entrypoint would create itself before
// running initdb: PGDATA (0700), the socket directory and the password file,
// owned by the server user. It is not part of any timing.
func (r *rig) prepareBare(sb *sandbox) error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{sb.data, 0o700}, {sb.sock, 0o755}} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("prepare bare sandbox: %w", err)
		}
		if err := r.chown(d.path); err != nil {
			return err
		}
	}
	if err := os.WriteFile(sb.pwfile(), []byte(sb.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write password file: %w", err)
	}
	return r.chown(sb.pwfile())
}

// bareSandbox is a prepared sandbox for a bare-PostgreSQL measurement and
// the log its commands write to. done closes both; call it on every path.
func (r *rig) bareSandbox(name string) (sb *sandbox, out *os.File, done func(), err error) {
	if sb, err = r.newSandbox(name); err != nil {
		return nil, nil, nil, err
	}
	if err = r.prepareBare(sb); err == nil {
		out, err = sb.logFile("commands.log")
	}
	if err != nil {
		r.closeSandbox(sb)
		return nil, nil, nil, err
	}
	return sb, out, func() { out.Close(); r.closeSandbox(sb) }, nil
}

func (sb *sandbox) pwfile() string { return filepath.Join(sb.root, "pwfile") }

// logFile creates a log file for a child's output.
func (sb *sandbox) logFile(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(sb.logDir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create log file: %w", err)
	}
	return f, nil
}

// pluginPIDs are the plugin pids the entrypoint's state file names.
func (sb *sandbox) pluginPIDs() []int {
	data, err := os.ReadFile(filepath.Join(sb.state, stateFileName))
	if err != nil {
		return nil
	}
	st, err := parseState(data)
	if err != nil {
		return nil
	}
	var pids []int
	for _, p := range st.Plugins {
		pids = append(pids, p.Reattach.Pid)
	}
	return pids
}

// close ends everything still running in the sandbox and removes it.
func (r *rig) closeSandbox(sb *sandbox) error {
	if sb == nil {
		return nil
	}
	if left := sweep(sb.root, sb.pluginPIDs(), 5*time.Second); len(left) > 0 {
		r.progress("cleanup: ended %d leftover process(es) in %s: %s", len(left), sb.root, joinInts(left))
	}
	if err := os.RemoveAll(sb.root); err != nil {
		return fmt.Errorf("remove sandbox: %w", err)
	}
	// Flush what this sandbox left in the page cache now, untimed, so that
	// the next run's fsyncs (initdb, checkpoints) do not pay for it.
	syscall.Sync()
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " ")
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
