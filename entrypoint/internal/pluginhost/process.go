package pluginhost

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"github.com/hashicorp/go-plugin/runner"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
)

// process is the go-plugin runner for one plugin binary. Unlike go-plugin's
// default runner it starts the plugin in its own process group with
// Pdeathsig=SIGKILL, reaps it as soon as it exits (independently of its
// output pipes, so a crash is seen even if a grandchild holds them), then
// kills whatever is left in the group, and Kill always targets the whole
// group.
type process struct {
	cmd    *exec.Cmd
	onExit func(*process) // called once, after the group was swept
	reaper *reaper.Reaper // starts the plugin and collects its status (nil: waited for directly)

	stdout, stderr *eofReader

	mu     sync.Mutex
	pid    int
	status *syscall.WaitStatus // set once reaped
	done   chan struct{}
}

var _ runner.Runner = (*process)(nil)

// newProcess prepares the plugin binary at path for start. exe is that
// binary opened and verified (pluginDir.openVerified): the child inherits it
// as descriptor 3 and executes /proc/self/fd/3, so exactly the verified
// bytes run even if the path was replaced in between. argv[0] stays the
// binary's path: a multi-call plugin binary dispatches on its base name.
// The caller closes exe once Start returned.
func newProcess(path string, exe *os.File, env []string, onExit func(*process)) *process {
	cmd := &exec.Cmd{
		Path:       procFD + "/3",
		Args:       []string{path},
		ExtraFiles: []*os.File{exe},
		Env:        env,
		Dir:        "/",
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	return &process{cmd: cmd, onExit: onExit, done: make(chan struct{})}
}

// Start starts the plugin. The goroutine that forks stays locked to its OS
// thread until the plugin is reaped: Pdeathsig fires when the forking
// *thread* ends, and Go may otherwise retire that thread.
func (p *process) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("stderr pipe: %w", err)
	}
	p.cmd.Stdout, p.cmd.Stderr = outW, errW
	p.stdout, p.stderr = newEOFReader(outR), newEOFReader(errR)

	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var child *reaper.Child
		var err error
		if p.reaper != nil {
			child, err = p.reaper.Start(p.cmd) // forks on this locked thread
		} else {
			err = p.cmd.Start()
		}
		outW.Close()
		errW.Close()
		if err != nil {
			outR.Close()
			errR.Close()
			close(p.done)
			started <- err
			return
		}
		p.mu.Lock()
		if child != nil {
			p.pid = child.Pid()
		} else {
			p.pid = p.cmd.Process.Pid
		}
		p.mu.Unlock()
		started <- nil

		var status syscall.WaitStatus
		if child != nil {
			status = child.Status() // the reaper hands over the exit status
		} else if st, werr := p.cmd.Process.Wait(); werr == nil {
			status, _ = st.Sys().(syscall.WaitStatus)
		} else {
			status = syscall.WaitStatus(0x7f00) // exit status 127: unknown
		}
		p.killGroup()
		p.mu.Lock()
		p.status = &status
		p.mu.Unlock()
		close(p.done)
		if p.onExit != nil {
			p.onExit(p)
		}
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", p.cmd.Path, err)
	}
	return nil
}

// Wait waits for the plugin to exit and releases the pipes (go-plugin calls
// it once it has read both to EOF).
func (p *process) Wait(context.Context) error {
	<-p.done
	p.stdout.Close()
	p.stderr.Close()
	return p.exitError()
}

// Kill sends SIGKILL to the plugin's whole process group.
func (p *process) Kill(context.Context) error {
	p.killGroup()
	return nil
}

func (p *process) killGroup() {
	pid := p.Pid()
	if pid <= 0 {
		return
	}
	// The child called setpgid before exec, and cmd.Start returns only
	// after exec, so the group exists as long as any member lives. ESRCH
	// means nothing is left.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// Pid returns the plugin's pid (also its process group id), 0 before Start.
func (p *process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Done is closed once the plugin was reaped.
func (p *process) Done() <-chan struct{} { return p.done }

// exitError describes how the plugin ended: nil for exit status 0.
func (p *process) exitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != nil && !(p.status.Exited() && p.status.ExitStatus() == 0) {
		return &reaper.ExitError{Status: *p.status}
	}
	return nil
}

// exitCode returns the exit status, or -1 and the signal name when the
// plugin was killed by a signal.
func (p *process) exitCode() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status == nil {
		return -1, ""
	}
	if p.status.Signaled() {
		return -1, p.status.Signal().String()
	}
	return p.status.ExitStatus(), ""
}

func (p *process) Diagnose(context.Context) string {
	return "A pgdock plugin must write nothing to stdout before calling sdk.Serve: its first\n" +
		"stdout line is the go-plugin handshake. Check also that the binary was built for\n" +
		"this architecture and can run as this user."
}

func (p *process) Stdout() io.ReadCloser { return p.stdout }
func (p *process) Stderr() io.ReadCloser { return p.stderr }
func (p *process) Name() string          { return p.cmd.Args[0] }

func (p *process) ID() string {
	if pid := p.Pid(); pid > 0 {
		return strconv.Itoa(pid)
	}
	return ""
}

func (p *process) PluginToHost(network, address string) (string, string, error) {
	return network, address, nil
}

func (p *process) HostToPlugin(network, address string) (string, string, error) {
	return network, address, nil
}

// eofReader closes eof once the underlying pipe reached end of file, so the
// crash report can wait for the plugin's last output lines.
type eofReader struct {
	f    *os.File
	once sync.Once
	eof  chan struct{}
}

func newEOFReader(f *os.File) *eofReader { return &eofReader{f: f, eof: make(chan struct{})} }

func (r *eofReader) Read(b []byte) (int, error) {
	n, err := r.f.Read(b)
	if err != nil {
		r.once.Do(func() { close(r.eof) })
	}
	return n, err
}

func (r *eofReader) Close() error {
	r.once.Do(func() { close(r.eof) })
	return r.f.Close()
}
