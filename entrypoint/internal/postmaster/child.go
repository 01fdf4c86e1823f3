package postmaster

import (
	"syscall"
	"time"
)

// ChildKillAt is when, as a fraction of the budget, a mode child that has
// not exited after its stop signal is killed.
const ChildKillAt = 0.75

// ChildStopResult tells how the stop of a mode child went.
type ChildStopResult struct {
	Took   time.Duration // from the stop signal to the child being reaped
	Killed bool          // SIGKILL was needed
}

// StopChild stops a mode child: a process that supervises PostgreSQL itself
// (Patroni, or a test's stand-in), adopted as a Process. The ladder differs
// from the postmaster's: sig (the provider's stop signal) goes to the child
// alone; if it has not exited at ChildKillAt of budget, or at once on a
// receive on escalate, the child alone gets SIGKILL. PostgreSQL is never
// signalled while the child lives (the child stops it, and for Patroni
// releases the leader key first). Once the child has been reaped, whatever
// is left of its process group gets SIGKILL. onKill, if set, is called
// before the SIGKILL.
func (p *Process) StopChild(sig syscall.Signal, budget time.Duration, escalate <-chan struct{}, onKill func()) ChildStopResult {
	start := time.Now()
	_ = p.Signal(sig)
	killed := false
	wait := time.Duration(ChildKillAt * float64(budget))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.Done():
	case <-escalate:
	case <-t.C:
	}
	if !p.Exited() {
		killed = true
		if onKill != nil {
			onKill()
		}
		_ = p.Signal(syscall.SIGKILL)
		<-p.Done()
	}
	res := ChildStopResult{Took: time.Since(start), Killed: killed}
	p.KillGroup(syscall.SIGKILL) // leftovers, e.g. a postmaster the killed child left behind
	return res
}
