package reaper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Reaper starts children and collects every exit status of the process.
// Create it with New and run Run in a goroutine (or use Background); until
// Run runs, children are started but not reaped.
//
// At most one Reaper may run in a process (wait4(-1) collects every child of
// the process, so two loops would take each other's children); pass it to
// whatever starts processes.
type Reaper struct {
	log      *zap.Logger
	mu       sync.Mutex // held by Start around fork+registration and by the loop around wait4+lookup
	children map[int]*Child
	wake     chan struct{}
	// OnOrphan, if set before Run, is told of every reaped process that was
	// not started through Start (tests).
	OnOrphan func(pid int, status syscall.WaitStatus)
}

// New returns a reaper that logs orphans to log (nil: no logging).
func New(log *zap.Logger) *Reaper {
	if log == nil {
		log = zap.NewNop()
	}
	return &Reaper{log: log, children: map[int]*Child{}, wake: make(chan struct{}, 1)}
}

// Background starts Run in a goroutine; stop ends it and returns once the
// loop has returned.
func Background(log *zap.Logger) (r *Reaper, stop func()) {
	r = New(log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	return r, func() { cancel(); <-done }
}

// Needed reports whether this process must reap orphans: it is PID 1.
func Needed() bool { return os.Getpid() == 1 }

// BecomeSubreaper makes orphaned descendants re-parent to this process
// (PR_SET_CHILD_SUBREAPER), so it acts as PID 1 does outside a container.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Run reaps until ctx ends. It wakes on SIGCHLD and after every Start.
func (r *Reaper) Run(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGCHLD)
	defer signal.Stop(sig)
	for {
		r.reapAll()
		select {
		case <-ctx.Done():
			return
		case <-sig:
		case <-r.wake:
		}
	}
}

// reapAll collects every exited child without blocking.
func (r *Reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		r.mu.Lock()
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			r.mu.Unlock()
			continue
		}
		if err != nil || pid <= 0 {
			r.mu.Unlock()
			return
		}
		c := r.children[pid]
		delete(r.children, pid)
		r.mu.Unlock()
		status := syscall.WaitStatus(ws)
		if c != nil {
			c.exited(status)
			continue
		}
		r.log.Debug("reaped orphaned process", zap.Int("pid", pid), zap.String("status", Describe(status)))
		if r.OnOrphan != nil {
			r.OnOrphan(pid, status)
		}
	}
}

// Child is a process started through the reaper.
type Child struct {
	cmd    *exec.Cmd
	pid    int
	reaped chan struct{}
	status syscall.WaitStatus
	io     sync.WaitGroup // copies between the child's pipes and non-file readers/writers
	copies []func()       // set up by plumb, started after the fork
}

// Start starts cmd (which must not be started yet) and registers it, so that
// its exit status comes to Child.Wait. Readers and writers that are not
// *os.File are connected through pipes and copied, as exec.Cmd does; never
// call cmd.Wait, cmd.Run or cmd.Output on a command started here (use
// os.Pipe rather than cmd.StdoutPipe, whose read end only cmd.Wait closes). Start forks in the calling goroutine (SysProcAttr.Pdeathsig relies
// on the calling thread).
func (r *Reaper) Start(cmd *exec.Cmd) (*Child, error) {
	c := &Child{cmd: cmd, reaped: make(chan struct{})}
	closeAfterStart, closeOnFail, err := c.plumb()
	if err != nil {
		closeAll(closeAfterStart)
		closeAll(closeOnFail)
		return nil, err
	}
	r.mu.Lock()
	err = cmd.Start()
	if err == nil {
		c.pid = cmd.Process.Pid
		r.children[c.pid] = c
	}
	r.mu.Unlock()
	closeAll(closeAfterStart)
	if err != nil {
		closeAll(closeOnFail)
		return nil, err
	}
	c.io.Add(len(c.copies))
	for _, f := range c.copies {
		go func(f func()) { defer c.io.Done(); f() }(f)
	}
	c.copies = nil
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return c, nil
}

func closeAll(fs []io.Closer) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// plumb replaces non-file stdio by pipes and prepares the copy functions.
func (c *Child) plumb() (closeAfterStart, closeOnFail []io.Closer, err error) {
	cmd := c.cmd
	if in := cmd.Stdin; in != nil {
		if _, ok := in.(*os.File); !ok {
			pr, pw, err := os.Pipe()
			if err != nil {
				return nil, nil, err
			}
			cmd.Stdin = pr
			closeAfterStart = append(closeAfterStart, pr)
			closeOnFail = append(closeOnFail, pw)
			c.copies = append(c.copies, func() {
				_, _ = io.Copy(pw, in) // EPIPE: the child stopped reading, as exec.Cmd ignores it
				_ = pw.Close()
			})
		}
	}
	out := func(w io.Writer) (*os.File, error) {
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		closeAfterStart = append(closeAfterStart, pw)
		closeOnFail = append(closeOnFail, pr)
		c.copies = append(c.copies, func() {
			_, _ = io.Copy(w, pr)
			_ = pr.Close()
		})
		return pw, nil
	}
	same := cmd.Stdout != nil && cmd.Stderr != nil && sameWriter(cmd.Stdout, cmd.Stderr)
	if w := cmd.Stdout; w != nil {
		if _, ok := w.(*os.File); !ok {
			f, err := out(w)
			if err != nil {
				return closeAfterStart, closeOnFail, err
			}
			cmd.Stdout = f
			if same {
				cmd.Stderr = f
			}
		}
	}
	if w := cmd.Stderr; w != nil && !same {
		if _, ok := w.(*os.File); !ok {
			f, err := out(w)
			if err != nil {
				return closeAfterStart, closeOnFail, err
			}
			cmd.Stderr = f
		}
	}
	return closeAfterStart, closeOnFail, nil
}

func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // uncomparable dynamic types
		}
	}()
	return a == b
}

func (c *Child) exited(ws syscall.WaitStatus) {
	c.status = ws
	// The pid is gone: release the process handle (a pidfd) so that nothing
	// signals or waits on it any more.
	_ = c.cmd.Process.Release()
	close(c.reaped)
}

// Pid of the child.
func (c *Child) Pid() int { return c.pid }

// Done is closed once the child has exited and been reaped (its output may
// still be being copied; Wait waits for that too).
func (c *Child) Done() <-chan struct{} { return c.reaped }

// Exited reports whether the child has been reaped.
func (c *Child) Exited() bool {
	select {
	case <-c.reaped:
		return true
	default:
		return false
	}
}

// Status is the wait status; valid once Done is closed.
func (c *Child) Status() syscall.WaitStatus { <-c.reaped; return c.status }

// Wait waits for the child's exit and for its copied output, and returns
// nil for exit status 0, else an *ExitError.
func (c *Child) Wait() error {
	<-c.reaped
	c.io.Wait()
	if c.status.Exited() && c.status.ExitStatus() == 0 {
		return nil
	}
	return &ExitError{Status: c.status}
}

// Signal sends sig to the child unless it has already been reaped (its pid
// may then belong to another process).
func (c *Child) Signal(sig syscall.Signal) error {
	if c.Exited() {
		return nil
	}
	err := c.cmd.Process.Signal(sig)
	if err != nil && (errors.Is(err, os.ErrProcessDone) || c.Exited()) {
		return nil // it exited (and may have been reaped) meanwhile
	}
	return err
}

// KillGroup sends sig to the process group whose id is the child's pid (a
// child started with Setpgid), also after the child itself is gone. ESRCH
// (nothing left) is not an error.
func (c *Child) KillGroup(sig syscall.Signal) {
	_ = syscall.Kill(-c.pid, sig)
}

// ExitError reports a child that did not exit with status 0.
type ExitError struct{ Status syscall.WaitStatus }

func (e *ExitError) Error() string { return Describe(e.Status) }

// Code is the shell-style exit code: the exit status, or 128+n for a child
// killed by signal n.
func Code(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// Describe says how a child ended, for logs and errors.
func Describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("killed by signal %s", ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
