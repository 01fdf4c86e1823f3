package reaper

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Reaper reaps adopted zombies. Create with New, then call Run in a goroutine.
type Reaper struct {
	log   *zap.Logger
	grace time.Duration
	self  int
	proc  string // /proc, injectable for tests
	// Reaped receives the pid of every process reaped (optional, for tests and logs).
	Reaped chan int
}

// New returns a reaper with the given grace period (0 = 500ms).
func New(log *zap.Logger, grace time.Duration) *Reaper {
	if grace <= 0 {
		grace = 500 * time.Millisecond
	}
	return &Reaper{log: log, grace: grace, self: os.Getpid(), proc: "/proc"}
}

// Needed reports whether this process must reap orphans: it is PID 1.
func Needed() bool { return os.Getpid() == 1 }

// BecomeSubreaper makes orphaned descendants re-parent to this process
// (PR_SET_CHILD_SUBREAPER), so it can act as PID 1 outside a container.
func BecomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Run reaps until ctx ends. It wakes on SIGCHLD and, while zombies are
// pending their grace period, on a short timer.
func (r *Reaper) Run(ctx context.Context) {
	sig := make(chan os.Signal, 16)
	signal.Notify(sig, syscall.SIGCHLD)
	defer signal.Stop(sig)
	seen := map[int]time.Time{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		case <-timer.C:
		}
		if next := r.sweep(seen, time.Now()); next > 0 {
			timer.Reset(next)
		}
	}
}

// sweep reaps zombies older than the grace period and returns how long until
// the next pending one is due (0 when none is pending).
func (r *Reaper) sweep(seen map[int]time.Time, now time.Time) time.Duration {
	zombies := r.zombieChildren()
	alive := map[int]bool{}
	var next time.Duration
	for _, pid := range zombies {
		alive[pid] = true
		first, ok := seen[pid]
		if !ok {
			seen[pid] = now
			first = now
		}
		if wait := r.grace - now.Sub(first); wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if err == nil && got == pid {
			delete(seen, pid)
			if r.log != nil {
				r.log.Debug("reaped orphaned process", zap.Int("pid", pid), zap.Int("status", ws.ExitStatus()))
			}
			if r.Reaped != nil {
				select {
				case r.Reaped <- pid:
				default:
				}
			}
		}
	}
	for pid := range seen {
		if !alive[pid] {
			delete(seen, pid) // reaped by its own waiter
		}
	}
	return next
}

// zombieChildren lists pids in state Z whose parent is this process.
func (r *Reaper) zombieChildren() []int {
	entries, err := os.ReadDir(r.proc)
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.proc, e.Name(), "stat"))
		if err != nil {
			continue
		}
		state, ppid, ok := parseStat(string(data))
		if ok && state == "Z" && ppid == r.self {
			out = append(out, pid)
		}
	}
	return out
}

// parseStat extracts state and ppid from /proc/<pid>/stat. The command name
// is in parentheses and may contain spaces or parentheses itself.
func parseStat(s string) (state string, ppid int, ok bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return "", 0, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 2 {
		return "", 0, false
	}
	p, err := strconv.Atoi(f[1])
	if err != nil {
		return "", 0, false
	}
	return f[0], p, true
}
