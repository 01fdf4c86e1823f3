package pgtest

import (
	"testing"

	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

// The rule lives in one place, plugins/sdk/sdktest; these names keep this
// module's tests short. Under PGDOCK_TEST_REQUIRE (any value but empty or a
// false boolean) a missing prerequisite fails instead of skipping.

// EnvRequire is the variable `make test` sets (sdktest.EnvRequire).
const EnvRequire = sdktest.EnvRequire

// Required reports whether missing prerequisites fail tests.
func Required() bool { return sdktest.Required() }

// Missing ends t because a prerequisite is missing: a skip with the reason,
// or a failure under PGDOCK_TEST_REQUIRE. -short is not a missing
// prerequisite: use testing.Short and t.Skip for it.
func Missing(t testing.TB, reason string) {
	t.Helper()
	sdktest.Missing(t, reason)
}

// NeedRoot ends t (see Missing) unless the test runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	sdktest.NeedRoot(t, why)
}

// NeedTool returns the path of program, or ends t (see Missing) naming the
// Debian package to install with `make deps`.
func NeedTool(t testing.TB, program, debianPackage string) string {
	t.Helper()
	return sdktest.NeedTool(t, program, debianPackage)
}
