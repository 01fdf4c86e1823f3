package prereq

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{{"", false}, {"0", false}, {"false", false}, {"1", true}, {"true", true}, {"yes-ish", false}} {
		t.Setenv(EnvRequire, tc.v)
		assert.Equal(t, tc.want, Required(), "%q", tc.v)
	}
}

// TestMissingFailsUnderRequire runs this test binary again on a helper test
// that calls Missing, with and without PGDOCK_TEST_REQUIRE=1: a skip
// without, a failure with.
func TestMissingFailsUnderRequire(t *testing.T) {
	if os.Getenv("PGDOCK_PREREQ_HELPER") == "1" {
		return
	}
	for _, tc := range []struct {
		require string
		fails   bool
		says    string
	}{{"", false, "SKIP"}, {"1", true, "forbids skipping"}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMissing$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "PGDOCK_PREREQ_HELPER=1", EnvRequire+"="+tc.require)
		out, err := cmd.CombinedOutput()
		if tc.fails {
			require.Error(t, err, "%s", out)
		} else {
			require.NoError(t, err, "%s", out)
		}
		assert.Contains(t, string(out), tc.says)
		assert.True(t, strings.Contains(string(out), "the prerequisite under test"), "%s", out)
	}
}

func TestHelperMissing(t *testing.T) {
	if os.Getenv("PGDOCK_PREREQ_HELPER") != "1" {
		return
	}
	Missing(t, "the prerequisite under test")
	t.Error("Missing returned")
}
