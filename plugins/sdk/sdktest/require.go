package sdktest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// EnvRequire turns every skip for a missing prerequisite into a failure
// when it is true (sdk.ParseBool). `make test` sets it to 1; plain `go test`
// leaves it unset, and tests may then skip.
const EnvRequire = "PGDOCK_TEST_REQUIRE"

// Required reports whether EnvRequire is set. A value that is not a boolean
// counts as set: a typo must not hide tests.
func Required() bool {
	v, ok := os.LookupEnv(EnvRequire)
	if !ok || v == "" {
		return false
	}
	on, err := sdk.ParseBool(v)
	return on || err != nil
}

// Missing reports a missing prerequisite: it skips the test with the reason,
// or fails it when Required. Call it instead of t.Skip whenever a test
// cannot run because something is not installed or the tests do not run as
// root; keep t.Skip for deliberate tiers such as testing.Short.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("missing prerequisite (%s is set, so this fails instead of skipping): %s", EnvRequire, reason)
		return
	}
	t.Skipf("skipped, missing prerequisite: %s (with %s=1 this fails)", reason, EnvRequire)
}

// NeedTool returns the path of program, or reports it Missing naming the
// Debian package that provides it.
func NeedTool(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, fmt.Sprintf("%s is not installed (Debian package %s)", program, debianPackage))
	}
	return p
}

// NeedRoot reports the test Missing unless it runs as root; why says what
// needs it.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, fmt.Sprintf("needs root (runs as uid %d): %s", os.Geteuid(), why))
	}
}
