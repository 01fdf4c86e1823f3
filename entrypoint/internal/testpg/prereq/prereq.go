package prereq

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// EnvRequire is the variable `make test` sets: under PGDOCK_TEST_REQUIRE=1 a
// test whose prerequisite is missing (PostgreSQL, root, the postgres OS user,
// a tool, Docker) fails instead of skipping, so no test vanishes silently.
const EnvRequire = "PGDOCK_TEST_REQUIRE"

// Required reports whether missing prerequisites fail tests
// (PGDOCK_TEST_REQUIRE is a true boolean: 1, t, true).
func Required() bool {
	b, _ := strconv.ParseBool(os.Getenv(EnvRequire))
	return b
}

// Missing ends t because a prerequisite is missing: a skip with the reason,
// or, under PGDOCK_TEST_REQUIRE=1, a failure with it. It never returns.
// -short is not a missing prerequisite: use testing.Short and t.Skip for it.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("missing test prerequisite (%s=1 forbids skipping): %s", EnvRequire, reason)
	}
	t.Skip("missing test prerequisite: " + reason)
}

// NeedRoot ends t (see Missing) unless the test runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "needs root: "+why)
	}
}

// NeedTool returns the path of program, or ends t (see Missing) naming the
// Debian package to install with `make deps`.
func NeedTool(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, program+" is not installed (Debian package "+debianPackage+"; run `make deps`): "+err.Error())
	}
	return p
}
