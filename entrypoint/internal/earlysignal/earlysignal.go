package earlysignal

import (
	"os"
	"os/signal"
	"syscall"
)

// Signals are the lifecycle's signals: the stop signals and SIGHUP (reload).
func Signals() []os.Signal {
	return []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP}
}

// caught is the subscription made at init. It is the package's only
// variable and is never reassigned: a subscription that must exist before
// main runs cannot live anywhere else.
var caught = subscribe()

func subscribe() chan os.Signal {
	c := make(chan os.Signal, 8)
	signal.Notify(c, Signals()...)
	return c
}

// Channel returns the signals caught since the program started.
func Channel() <-chan os.Signal { return caught }

// Release ends the subscription: the signals get their default behaviour
// back (a subcommand is an ordinary process). Signals already caught are
// dropped.
func Release() { signal.Stop(caught) }
