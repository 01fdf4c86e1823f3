package postmaster

import (
	"fmt"
	"strings"
	"syscall"
	"time"
)

// Mode is a PostgreSQL shutdown mode.
type Mode int

// The escalation ladder, in order.
const (
	Smart Mode = iota
	Fast
	Immediate
	Kill // SIGKILL to the whole process group
)

func (m Mode) String() string {
	return [...]string{"smart", "fast", "immediate", "kill"}[m]
}

// Signal is what the postmaster receives for each mode.
func (m Mode) Signal() syscall.Signal {
	return [...]syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGKILL}[m]
}

// ParseMode reads SHUTDOWN_MODE (any case).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "smart":
		return Smart, nil
	case "", "fast":
		return Fast, nil
	case "immediate":
		return Immediate, nil
	}
	return Fast, fmt.Errorf("unknown shutdown mode %q: must be smart, fast or immediate", s)
}

// escalationAt is when, as a fraction of the budget, the ladder moves up to
// mode m. A stop that starts higher skips the earlier rungs.
func escalationAt(m Mode) float64 {
	switch m {
	case Fast:
		return 0.5
	case Immediate:
		return 0.75
	case Kill:
		return 0.95
	}
	return 0
}

// StopResult tells how a stop went.
type StopResult struct {
	Final     Mode          // the last mode sent
	Took      time.Duration // from the first signal to the process being reaped
	Escalated bool          // a later rung than the first was needed
}

// Stop shuts the server down starting with mode first, escalating inside
// budget; a receive on escalate (a second stop request) moves up one rung at
// once. onStep, if set, is told of every rung sent. Stop returns once the
// postmaster has been reaped; after SIGKILL it also kills the process group.
func (p *Process) Stop(first Mode, budget time.Duration, escalate <-chan struct{}, onStep func(Mode)) StopResult {
	start := time.Now()
	mode := first
	send := func(m Mode) {
		if onStep != nil {
			onStep(m)
		}
		if m == Kill {
			p.KillGroup(syscall.SIGKILL)
			return
		}
		_ = p.Signal(m.Signal())
	}
	send(mode)
	for {
		if mode == Kill {
			<-p.Done()
			break
		}
		next := mode + 1
		wait := time.Duration(escalationAt(next)*float64(budget)) - time.Since(start)
		if wait < 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-p.Done():
			t.Stop()
			res := StopResult{Final: mode, Took: time.Since(start), Escalated: mode != first}
			if mode >= Immediate {
				// Backends notice the postmaster's death on their own, but make
				// sure nothing of the group outlives the stop.
				p.KillGroup(syscall.SIGKILL)
			}
			return res
		case <-escalate:
			t.Stop()
		case <-t.C:
		}
		mode = next
		send(mode)
	}
	return StopResult{Final: Kill, Took: time.Since(start), Escalated: first != Kill}
}
