package postmaster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
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
}

// Process is a running postmaster.
type Process struct {
	cmd    *exec.Cmd
	pgdata string
	done   chan struct{}
	state  *os.ProcessState
}

// Start launches postgres -D <pgdata> <args...> in its own process group.
func Start(o Options) (*Process, error) {
	argv := append([]string{"-D", o.PGData}, o.Args...)
	cmd := exec.Command(o.Postgres, argv...)
	cmd.Env = o.Env
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.Credential}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	p := &Process{cmd: cmd, pgdata: o.PGData, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the status is read from ProcessState
		p.state = cmd.ProcessState
		close(p.done)
	}()
	return p, nil
}

// PID of the postmaster.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the postmaster has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitCode is the shell-style status after Done: the exit code, or 128+signal.
func (p *Process) ExitCode() int {
	<-p.done
	return ExitCodeOf(p.state)
}

// ExitCodeOf converts a process state to a shell-style exit code.
func ExitCodeOf(st *os.ProcessState) int {
	if st == nil {
		return 1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// Describe says how the process ended, for logs.
func (p *Process) Describe() string {
	<-p.done
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %s", ws.Signal())
	}
	return fmt.Sprintf("exit code %d", p.state.ExitCode())
}

// Signal sends sig to the postmaster only.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return p.cmd.Process.Signal(sig)
}

// KillGroup sends sig to the postmaster's whole process group (its backends
// and auxiliary processes), also after the postmaster itself is gone.
func (p *Process) KillGroup(sig syscall.Signal) {
	_ = syscall.Kill(-p.PID(), sig)
}

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
		case <-p.done:
			t.Stop()
			return fmt.Errorf("%w (%s)", ErrExited, p.Describe())
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
