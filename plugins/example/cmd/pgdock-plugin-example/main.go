// Command pgdock-plugin-example is pgdock's example plugin. It is started by
// pgdock-entrypoint when EXAMPLE_ENABLE=true; run by hand it only says so.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/pgdock/pgdock/plugins/example"
	"github.com/pgdock/pgdock/plugins/sdk"
)

func main() {
	// The logger must exist before sdk.Serve redirects os.Stderr.
	log := sdk.NewLogger(example.Name)
	knobs, errs := example.KnobsFromEnv(os.Getenv)
	for _, err := range errs {
		log.Error("bad knob", "error", err)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	if knobs.StdoutGarbage {
		// Breaks the handshake on purpose: stdout belongs to go-plugin.
		fmt.Println("example plugin: garbage before the handshake")
	}
	if knobs.HangAtStart > 0 {
		log.Warn("hanging before the handshake on purpose", "for", knobs.HangAtStart.String())
		time.Sleep(knobs.HangAtStart)
	}
	if knobs.SpawnChild {
		// A child that outlives nothing: it shares the plugin's stderr and
		// process group, and the host must clean it up.
		child := exec.Command("sleep", "3600")
		child.Stderr = os.Stderr
		if err := child.Start(); err != nil {
			log.Error("spawn child", "error", err)
			os.Exit(1)
		}
		log.Info("spawned a child on purpose", "pid", child.Process.Pid)
	}
	if knobs.CrashAfter > 0 {
		go func() {
			time.Sleep(knobs.CrashAfter)
			log.Error("crashing on purpose", "after", knobs.CrashAfter.String(), "exit_status", 3)
			os.Exit(3)
		}()
	}
	sdk.Serve(example.New(log, knobs, os.Getenv))
}
