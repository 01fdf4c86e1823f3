package postmaster

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/entrypoint/internal/pidfile"
)

// orphanPoll is how often StopOrphan looks whether the server is gone.
const orphanPoll = 20 * time.Millisecond

// orphanLastWait is how long StopOrphan waits after SIGKILL when the budget
// is already spent.
const orphanLastWait = time.Second

// OrphanResult tells how the stop of a left-behind postmaster went. PID 0:
// there was none.
type OrphanResult struct {
	PID   int
	Final Mode          // the last rung sent
	Took  time.Duration // from the first signal to the server being gone
	Gone  bool
}

// StopOrphan stops the postmaster that pgdata/postmaster.pid names when it
// is alive and serves pgdata (its working directory is pgdata): a server
// that a mode child started in a session of its own (Patroni does) and
// left behind when it died or was killed. The ladder is fast (SIGINT),
// immediate (SIGQUIT) at half of budget, then SIGKILL to its process group
// and to it at 90 %; a budget already spent goes straight to SIGKILL.
// onStep, if set, is told of every rung sent. It returns once the server is
// gone (a zombie counts as gone) or the budget is over.
func StopOrphan(pgdata string, budget time.Duration, onStep func(Mode, int)) OrphanResult {
	info, err := pidfile.Read(pgdata)
	if err != nil || !servesData(info.PID, pgdata) {
		return OrphanResult{}
	}
	pid := info.PID
	start := time.Now()
	send := func(m Mode) {
		if onStep != nil {
			onStep(m, pid)
		}
		if m == Kill {
			_ = syscall.Kill(-pid, syscall.SIGKILL) // a session leader: its backends too
		}
		_ = syscall.Kill(pid, m.Signal())
	}
	ladder := []struct {
		mode Mode
		at   time.Duration
	}{{Fast, 0}, {Immediate, budget / 2}, {Kill, budget * 9 / 10}}
	if budget <= 0 {
		ladder = ladder[2:]
		budget = orphanLastWait
	}
	res := OrphanResult{PID: pid}
	for i, rung := range ladder {
		res.Final = rung.mode
		send(rung.mode)
		until := budget
		if i+1 < len(ladder) {
			until = ladder[i+1].at
		} else if until-time.Since(start) < orphanLastWait {
			until = time.Since(start) + orphanLastWait
		}
		for time.Since(start) < until {
			if processGone(pid) {
				res.Took, res.Gone = time.Since(start), true
				return res
			}
			time.Sleep(orphanPoll)
		}
	}
	res.Took, res.Gone = time.Since(start), processGone(pid)
	return res
}

// servesData reports whether pid is a live postmaster of pgdata: the
// postmaster's working directory is its data directory. When that cannot be
// read (another user's process), its command name must be postgres.
func servesData(pid int, pgdata string) bool {
	if pid <= 0 || processGone(pid) {
		return false
	}
	proc := filepath.Join("/proc", strconv.Itoa(pid))
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	if err == nil {
		want, werr := filepath.EvalSymlinks(pgdata)
		if werr != nil {
			want = filepath.Clean(pgdata)
		}
		return cwd == want
	}
	if !errors.Is(err, os.ErrPermission) {
		return false
	}
	comm, err := os.ReadFile(filepath.Join(proc, "comm"))
	return err == nil && strings.TrimSpace(string(comm)) == "postgres"
}

// processGone reports whether pid no longer runs: it does not exist or is
// a zombie waiting to be reaped.
func processGone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
