package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procSpec describes a child process. Every child gets its own process
// group and a working directory inside the run's sandbox, so that a sweep
// finds it (and its children) whatever happens.
type procSpec struct {
	Path string
	Args []string // without the program name
	Env  []string
	Dir  string
	Cred *syscall.Credential // nil: run as the bench's own user
	Out  *os.File            // stdout and stderr; nil means /dev/null
}

func (s procSpec) command() *exec.Cmd {
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env, cmd.Dir = s.Env, s.Dir
	if s.Out != nil {
		cmd.Stdout, cmd.Stderr = s.Out, s.Out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.Cred}
	return cmd
}

// proc is a started child that is waited for in the background, so that
// the moment it exits is known precisely.
type proc struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{}
	exitAt time.Time
	err    error
}

// startProc starts s. started is the time taken just before the fork.
func startProc(name string, s procSpec) (p *proc, started time.Time, err error) {
	cmd := s.command()
	started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, started, fmt.Errorf("start %s: %w", name, err)
	}
	p = &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.exitAt = time.Now()
		p.err = err
		close(p.done)
	}()
	return p, started, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process (not its group) and returns the time it
// was sent.
func (p *proc) signal(sig syscall.Signal) (time.Time, error) {
	t := time.Now()
	if err := syscall.Kill(p.pid(), sig); err != nil {
		return t, fmt.Errorf("signal %s to %s: %w", sig, p.name, err)
	}
	return t, nil
}

// wait waits until the process exited, at most timeout, and returns when.
func (p *proc) wait(ctx context.Context, timeout time.Duration) (time.Time, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.exitAt, nil
	case <-t.C:
		return time.Time{}, fmt.Errorf("%s (pid %d) did not exit within %s", p.name, p.pid(), timeout)
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
	}
}

// kill ends the process group hard and reaps the process (bounded).
func (p *proc) kill() {
	if p == nil || p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// exitError says how a finished process ended, nil for status 0.
func (p *proc) exitError() error {
	<-p.done
	if p.err != nil {
		return fmt.Errorf("%s: %w", p.name, p.err)
	}
	return nil
}

// runProc runs s to completion within timeout and returns its wall time.
func runProc(ctx context.Context, name string, s procSpec, timeout time.Duration) (time.Duration, error) {
	p, started, err := startProc(name, s)
	if err != nil {
		return 0, err
	}
	end, err := p.wait(ctx, timeout)
	if err != nil {
		p.kill()
		return 0, err
	}
	if err := p.exitError(); err != nil {
		return 0, err
	}
	return end.Sub(started), nil
}

// memKiB reads memory fields (kB) of pid from /proc/<pid>/status, e.g.
// VmRSS, RssAnon, RssFile. A missing field is an error (a zombie has none).
func memKiB(pid int, fields ...string) (map[string]int, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read memory use: %w", err)
	}
	defer f.Close()
	out := make(map[string]int, len(fields))
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !slices.Contains(fields, name) {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		if err != nil {
			return nil, fmt.Errorf("parse %s in %s: %w", name, path, err)
		}
		out[name] = kb
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read memory use: %w", err)
	}
	for _, name := range fields {
		if _, ok := out[name]; !ok {
			return nil, errors.New("no " + name + " in " + path + " (a zombie?)")
		}
	}
	return out, nil
}

// rssKiB reads VmRSS of pid, in kB.
func rssKiB(pid int) (int, error) {
	m, err := memKiB(pid, "VmRSS")
	if err != nil {
		return 0, err
	}
	return m["VmRSS"], nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("find a free port: unexpected address %v", l.Addr())
	}
	return addr.Port, nil
}

// sleepCtx sleeps d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
