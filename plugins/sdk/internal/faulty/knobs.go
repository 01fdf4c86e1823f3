package main

import (
	"fmt"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// knobs are the faults to inject, read at process start.
type knobs struct {
	CrashAfter    time.Duration
	HangAtStart   time.Duration
	IgnoreTerm    bool
	StdoutGarbage bool
	SpawnChild    bool
	Mode          string
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
	duration("HANG_AT_START", &k.HangAtStart)
	boolean("IGNORE_TERM", &k.IgnoreTerm)
	boolean("STDOUT_GARBAGE", &k.StdoutGarbage)
	boolean("SPAWN_CHILD", &k.SpawnChild)
	k.Mode = getenv(prefix + "MODE")
	return k, errs
}
