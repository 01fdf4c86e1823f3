package example

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Knobs are the example's test switches. They are read from the process
// environment at start (the host passes a plugin's own namespace, minus
// secret-looking names, when it starts the process), because they act
// before or outside any hook.
type Knobs struct {
	CrashAfter    time.Duration // EXAMPLE_CRASH_AFTER: exit with status 3 after this long
	HangAtStart   time.Duration // EXAMPLE_HANG_AT_START: sleep this long before serving
	StdoutGarbage bool          // EXAMPLE_STDOUT_GARBAGE: print junk to stdout before the handshake
	Mode          string        // EXAMPLE_MODE: pretend to provide this run mode (tests of ModeCommand)
	SpawnChild    bool          // EXAMPLE_SPAWN_CHILD: start a long-lived child sharing stderr (tests of process-group cleanup)
}

// Knob variable names.
const (
	EnvCrashAfter    = "EXAMPLE_CRASH_AFTER"
	EnvHangAtStart   = "EXAMPLE_HANG_AT_START"
	EnvStdoutGarbage = "EXAMPLE_STDOUT_GARBAGE"
	EnvMode          = "EXAMPLE_MODE"
	EnvSpawnChild    = "EXAMPLE_SPAWN_CHILD"
)

// KnobsFromEnv reads the knobs with getenv, reporting every bad value.
func KnobsFromEnv(getenv func(string) string) (Knobs, []error) {
	var k Knobs
	var errs []error
	duration := func(name string, dst *time.Duration) {
		v := getenv(name)
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a non-negative duration such as 500ms or 2s", name, v))
			return
		}
		*dst = d
	}
	duration(EnvCrashAfter, &k.CrashAfter)
	duration(EnvHangAtStart, &k.HangAtStart)
	boolean := func(name string, dst *bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			return
		}
		*dst = b
	}
	boolean(EnvStdoutGarbage, &k.StdoutGarbage)
	boolean(EnvSpawnChild, &k.SpawnChild)
	k.Mode = getenv(EnvMode)
	return k, errs
}

// parseBool accepts true/false/1/0/yes/no/on/off in any case.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean (true/false/1/0/yes/no/on/off)")
}
