package testpg

import (
	"testing"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

// Missing ends t because a prerequisite is missing: a skip, or a failure
// under PGDOCK_TEST_REQUIRE=1 (see package prereq).
func Missing(t testing.TB, reason string) {
	t.Helper()
	prereq.Missing(t, reason)
}

// NeedRoot ends t through Missing unless the test runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	prereq.NeedRoot(t, why)
}

// NeedTool returns program's path or ends t through Missing, naming the
// Debian package that provides it.
func NeedTool(t testing.TB, program, debianPackage string) string {
	t.Helper()
	return prereq.NeedTool(t, program, debianPackage)
}
