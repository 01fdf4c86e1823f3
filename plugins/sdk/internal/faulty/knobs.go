package main

import (
	"fmt"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// knobs are the faults to inject, read at process start.
type knobs struct {
	CrashAfter time.Duration
	// CrashAfterStarted: exit with status 3 this long after the Started
	// hook, i.e. certainly after the first boot and readiness.
	CrashAfterStarted time.Duration
	HangAtStart       time.Duration
	IgnoreTerm        bool
	StdoutGarbage     bool
	SpawnChild        bool
	Mode              string

	// The FAKE mode provider (a test stand-in for Patroni, see fake.go).
	ModeFake          bool   // MODE_FAKE: the mode command runs postgres under a shell
	ModeOwnsBootstrap bool   // MODE_OWNS_BOOTSTRAP: it runs initdb and calls back post-bootstrap
	ModeEntrypoint    string // MODE_ENTRYPOINT: the pgdock-entrypoint it calls back
	ModeRoleFile      string // MODE_ROLE_FILE: ModeStatus reports the role written there
	BinDir            string // BINDIR: PostgreSQL's bin directory (fake mode, bootstrap provider)
	// A FAKE bootstrap provider: runs initdb itself instead of the host.
	ProvideBootstrap bool // PROVIDE_BOOTSTRAP
	// One job: JOB_SCHEDULE (cron) runs sh -c JOB_COMMAND.
	JobSchedule string
	JobCommand  string
	JobTimeout  time.Duration
	// HBA is a pg_hba rule the plugin contributes; After its "after" list.
	HBA   string
	After string
	// Section is "<target>:<name>:<JSON object>", a section contributed
	// to another plugin.
	Section string
}

// knobError is a bad knob value, naming its variable.
type knobError struct {
	Var, Value, Want string
}

func (e *knobError) Error() string { return fmt.Sprintf("%s=%q: %s", e.Var, e.Value, e.Want) }

// knobsFromEnv reads the knobs of plugin name with getenv, reporting every
// bad value.
func knobsFromEnv(name string, getenv func(string) string) (knobs, []*knobError) {
	prefix := sdk.EnvPrefix(name)
	var k knobs
	var errs []*knobError
	duration := func(suffix string, dst *time.Duration) {
		v := getenv(prefix + suffix)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, &knobError{Var: prefix + suffix, Value: v, Want: "not a non-negative duration such as 500ms or 2s"})
			return
		}
		*dst = d
	}
	boolean := func(suffix string, dst *bool) {
		v := getenv(prefix + suffix)
		if v == "" {
			return
		}
		b, err := sdk.ParseBool(v)
		if err != nil {
			errs = append(errs, &knobError{Var: prefix + suffix, Value: v, Want: err.Error()})
			return
		}
		*dst = b
	}
	duration("CRASH_AFTER", &k.CrashAfter)
	duration("CRASH_AFTER_STARTED", &k.CrashAfterStarted)
	duration("HANG_AT_START", &k.HangAtStart)
	boolean("IGNORE_TERM", &k.IgnoreTerm)
	boolean("STDOUT_GARBAGE", &k.StdoutGarbage)
	boolean("SPAWN_CHILD", &k.SpawnChild)
	k.Mode = getenv(prefix + "MODE")
	boolean("MODE_FAKE", &k.ModeFake)
	boolean("MODE_OWNS_BOOTSTRAP", &k.ModeOwnsBootstrap)
	k.ModeEntrypoint = getenv(prefix + "MODE_ENTRYPOINT")
	k.ModeRoleFile = getenv(prefix + "MODE_ROLE_FILE")
	k.BinDir = getenv(prefix + "BINDIR")
	boolean("PROVIDE_BOOTSTRAP", &k.ProvideBootstrap)
	k.JobSchedule = getenv(prefix + "JOB_SCHEDULE")
	k.JobCommand = getenv(prefix + "JOB_COMMAND")
	duration("JOB_TIMEOUT", &k.JobTimeout)
	k.HBA = getenv(prefix + "HBA")
	k.After = getenv(prefix + "AFTER")
	k.Section = getenv(prefix + "SECTION")
	return k, errs
}
