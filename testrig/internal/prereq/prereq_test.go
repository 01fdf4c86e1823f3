package prereq

import (
	"testing"
)

// fakeTB records whether Missing failed or skipped.
type fakeTB struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true }
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }

func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		env              string
		wantFail, wantSk bool
	}{
		{env: "1", wantFail: true},
		{env: "", wantSk: true},
		{env: "0", wantSk: true},
	} {
		t.Run("PGDOCK_TEST_REQUIRE="+tc.env, func(t *testing.T) {
			t.Setenv(Var, tc.env)
			f := &fakeTB{}
			Missing(f, "no engine")
			if f.failed != tc.wantFail || f.skipped != tc.wantSk {
				t.Fatalf("failed=%v skipped=%v, want failed=%v skipped=%v", f.failed, f.skipped, tc.wantFail, tc.wantSk)
			}
		})
	}
}
