package prereq

import (
	"fmt"
	"os"
	"testing"
)

// Var is the variable make test sets.
const Var = "PGDOCK_TEST_REQUIRE"

// Required reports whether missing prerequisites must fail tests.
func Required() bool { return os.Getenv(Var) == "1" }

// Missing stops the test for a missing prerequisite: t.Fatal under
// PGDOCK_TEST_REQUIRE=1, t.Skip otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("missing prerequisite (%s=1 turns this skip into a failure): %s", Var, msg)
		return
	}
	t.Skipf("missing prerequisite: %s", msg)
}
