package postmaster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// Options describe the server process to start.
type Options struct {
	Postgres string   // path of the postgres binary
	PGData   string   // data directory (-D)
	Args     []string // further arguments, e.g. -c listen_addresses=
	Env      []string // complete environment of the child
	Stdout   io.Writer
	Stderr   io.Writer
	// Credential runs the child as another user (tests running as root);
	// the entrypoint itself has already dropped privileges and leaves it nil.
	Credential *syscall.Credential
	// Reaper starts the process and collects its exit status (required).
	Reaper *reaper.Reaper
}

// Process is a running postmaster.
type Process struct {
	child  *reaper.Child
	pgdata string
}

// Start launches postgres -D <pgdata> <args...> in its own process group.
func Start(o Options) (*Process, error) {
	argv := append([]string{"-D", o.PGData}, o.Args...)
	cmd := exec.Command(o.Postgres, argv...)
	cmd.Env = o.Env
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.Credential}
	if o.Reaper == nil {
		return nil, errors.New("start postgres: no reaper")
	}
	child, err := o.Reaper.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	return &Process{child: child, pgdata: o.PGData}, nil
}

// Adopt wraps a child started through the reaper (in its own process
// group) as a Process, so that the stop ladder applies to it.
func Adopt(child *reaper.Child, pgdata string) *Process {
	return &Process{child: child, pgdata: pgdata}
}

// PID of the postmaster.
func (p *Process) PID() int { return p.child.Pid() }

// Done is closed when the postmaster has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.child.Done() }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool { return p.child.Exited() }

// ExitCode is the shell-style status after Done: the exit code, or 128+signal.
func (p *Process) ExitCode() int { return reaper.Code(p.child.Status()) }

// Describe says how the process ended, for logs.
func (p *Process) Describe() string { return reaper.Describe(p.child.Status()) }

// Signal sends sig to the postmaster only.
func (p *Process) Signal(sig syscall.Signal) error { return p.child.Signal(sig) }

// KillGroup sends sig to the postmaster's whole process group (its backends
// and auxiliary processes), also after the postmaster itself is gone.
func (p *Process) KillGroup(sig syscall.Signal) { p.child.KillGroup(sig) }

// ErrExited is returned by WaitReady when the server exits before it is ready.
var ErrExited = errors.New("postgres exited before it was ready")

// WaitReady blocks until postmaster.pid names this process with status ready
// (or standby), the process exits, or ctx ends. There is no other deadline:
// a crash recovery may take as long as it needs while the postmaster lives.
func (p *Process) WaitReady(ctx context.Context) error {
	start := time.Now()
	for {
		if info, err := pidfile.Read(p.pgdata); err == nil && info.PID == p.PID() && info.Ready() {
			return nil
		}
		interval := 2 * time.Millisecond
		if time.Since(start) > 2*time.Second {
			interval = 50 * time.Millisecond
		}
		t := time.NewTimer(interval)
		select {
		case <-p.Done():
			t.Stop()
			return fmt.Errorf("%w (%s)", ErrExited, p.Describe())
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
