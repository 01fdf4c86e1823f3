// Command faulty is a test-only pgdock plugin that misbehaves on request, so
// that the host's failure handling (crash, hang, garbage on stdout, leftover
// children) can be tested against a real plugin process. It is never built
// into bin/plugins: tests build it as pgdock-plugin-<name> (usually
// pgdock-plugin-faulty) in their own directories.
//
// Like the image's multi-call plugin binary, it takes its name from the base
// name of argv[0] (pgdock-plugin-<name>; "faulty" otherwise), describes
// itself with it and reads its knobs from its own namespace <NAME>_ in the
// process environment (the host passes a plugin its namespace at start):
//
//	<NAME>_CRASH_AFTER     duration: exit with status 3 this long after start
//	<NAME>_CRASH_AFTER_STARTED duration: exit with status 3 this long after the Started hook
//	<NAME>_HANG_AT_START   duration: sleep this long before serving
//	<NAME>_IGNORE_TERM     boolean: ignore SIGTERM and SIGINT (only SIGKILL ends it)
//	<NAME>_STDOUT_GARBAGE  boolean: print a line to stdout before the handshake
//	<NAME>_SPAWN_CHILD     boolean: start a long-lived child that shares stderr (in Describe)
//	<NAME>_MODE            string: describe itself as providing this run mode
//
// and, to test the host's run modes, bootstrap providers and jobs (fake.go):
//
//	<NAME>_MODE_FAKE            boolean: be a FAKE mode provider whose command runs postgres under a shell
//	<NAME>_MODE_OWNS_BOOTSTRAP  boolean: the FAKE mode command runs initdb itself and calls back post-bootstrap
//	<NAME>_MODE_ENTRYPOINT      path of the pgdock-entrypoint it calls back (default: from PATH)
//	<NAME>_MODE_ROLE_FILE       file whose content (primary, replica, none) ModeStatus reports as the role
//	<NAME>_BINDIR               PostgreSQL's bin directory
//	<NAME>_PROVIDE_BOOTSTRAP    boolean: be a FAKE bootstrap provider (runs initdb itself, no restore)
//	<NAME>_JOB_SCHEDULE         cron schedule of one job "tick" running sh -c <NAME>_JOB_COMMAND
//	<NAME>_JOB_COMMAND          the job's shell command
//	<NAME>_JOB_TIMEOUT          the job's timeout (whole seconds)
//	<NAME>_HBA                  a pg_hba rule the plugin contributes
//	<NAME>_AFTER                comma list of plugins it runs after
//	<NAME>_SECTION              <target>:<name>:<JSON object>, a section contributed to another plugin
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Version is what the plugin describes as its version.
const Version = "0.0.0-faulty"

// DefaultName is the name when argv[0] is not pgdock-plugin-<name>.
const DefaultName = "faulty"

func main() {
	name := nameFromArgv0(os.Args[0])
	log := sdk.NewLogger(name)
	knobs, errs := knobsFromEnv(name, os.Getenv)
	for _, err := range errs {
		log.Error("bad knob", "error", err)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	if knobs.IgnoreTerm {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
	}
	if knobs.StdoutGarbage {
		// Breaks the handshake on purpose: stdout belongs to go-plugin.
		fmt.Println(name + " plugin: garbage before the handshake")
	}
	if knobs.HangAtStart > 0 {
		log.Warn("hanging before the handshake on purpose", "for", knobs.HangAtStart.String())
		time.Sleep(knobs.HangAtStart)
	}
	if knobs.CrashAfter > 0 {
		go func() {
			time.Sleep(knobs.CrashAfter)
			log.Error("crashing on purpose", "after", knobs.CrashAfter.String(), "exit_status", 3)
			os.Exit(3)
		}()
	}
	// os.Stderr is the process's own stderr until Serve redirects it.
	sdk.Serve(&plugin{name: name, knobs: knobs, log: log, stderr: os.Stderr})
}

// nameFromArgv0 is the plugin name in pgdock-plugin-<name>, or DefaultName.
func nameFromArgv0(argv0 string) string {
	if n, ok := strings.CutPrefix(filepath.Base(argv0), "pgdock-plugin-"); ok && n != "" {
		return n
	}
	return DefaultName
}

// plugin answers every hook neutrally; its faults act outside the hooks.
type plugin struct {
	sdk.Base
	name   string
	knobs  knobs
	log    hclog.Logger
	stderr *os.File // the process's stderr, before sdk.Serve redirected it

	spawn sync.Once

	mu     sync.Mutex
	pgdata string // from ModeCommand (FAKE mode provider)
}

// Describe describes the plugin. With <NAME>_SPAWN_CHILD it first starts a
// long-lived child in the plugin's process group that holds the plugin's
// stderr (the host must clean it up, and must see a crash of the plugin
// anyway). It does so here, once: the host calls Describe right after the
// handshake, so the child is a child of the serving plugin, as one a real
// plugin starts from a hook.
func (p *plugin) Describe(context.Context) (sdk.Description, error) {
	if p.knobs.SpawnChild {
		var err error
		p.spawn.Do(func() { err = p.spawnChild() })
		if err != nil {
			return sdk.Description{}, err
		}
	}
	return sdk.Description{
		Name:         p.name,
		Version:      Version,
		Env:          []sdk.EnvVar{{Name: sdk.EnvPrefix(p.name), Prefix: true, Description: "the test plugin's knobs"}},
		ProvidesMode: p.knobs.Mode,

		ProvidesBootstrap: p.knobs.ProvideBootstrap,
		After:             splitList(p.knobs.After),
	}, nil
}

func (p *plugin) spawnChild() error {
	child := exec.Command("sleep", "3600")
	child.Stderr = p.stderr
	if err := child.Start(); err != nil {
		return fmt.Errorf("spawn child: %w", err)
	}
	p.log.Info("spawned a child on purpose", "pid", child.Process.Pid)
	return nil
}

// Validate reports bad knob values in the hook's environment.
func (p *plugin) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	_, errs := knobsFromEnv(p.name, func(k string) string { return env[k] })
	var problems []sdk.Problem
	for _, err := range errs {
		problems = append(problems, sdk.Problem{Var: err.Var, Message: err.Error()})
	}
	return problems, nil
}

// ModeCommand runs a harmless long-running command when <NAME>_MODE is set,
// or the FAKE mode provider's command with <NAME>_MODE_FAKE.
func (p *plugin) ModeCommand(_ context.Context, req sdk.ModeCommandRequest) (*sdk.Command, error) {
	if p.knobs.Mode == "" {
		return nil, nil
	}
	if p.knobs.ModeFake {
		return p.fakeModeCommand(req), nil
	}
	return &sdk.Command{
		Argv:       []string{"sleep", "infinity"},
		Env:        map[string]string{"PATH": os.Getenv("PATH"), sdk.EnvPrefix(p.name) + "MODE": p.knobs.Mode},
		Dir:        req.Server.PGData,
		StopSignal: "SIGINT",
	}, nil
}
