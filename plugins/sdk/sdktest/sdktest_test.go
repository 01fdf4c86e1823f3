package sdktest_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		value string
		unset bool
		want  bool
	}{
		{unset: true, want: false},
		{value: "", want: false},
		{value: "1", want: true},
		{value: "true", want: true},
		{value: "On", want: true},
		{value: "0", want: false},
		{value: "no", want: false},
		{value: "yess", want: true}, // a typo must not hide tests
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q unset=%v", tt.value, tt.unset), func(t *testing.T) {
			t.Setenv(sdktest.EnvRequire, tt.value)
			if tt.unset {
				t.Setenv(sdktest.EnvRequire, "") // registers the restore
				require.NoError(t, os.Unsetenv(sdktest.EnvRequire))
			}
			assert.Equal(t, tt.want, sdktest.Required())
		})
	}
}

// recorder is a testing.TB that records Skipf and Fatalf instead of ending
// the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                          {}
func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
}

func TestMissing(t *testing.T) {
	tests := []struct {
		require     string
		wantSkipped bool
	}{
		{require: "", wantSkipped: true},
		{require: "0", wantSkipped: true},
		{require: "1", wantSkipped: false},
	}
	for _, tt := range tests {
		t.Run("PGDOCK_TEST_REQUIRE="+tt.require, func(t *testing.T) {
			t.Setenv(sdktest.EnvRequire, tt.require)
			r := &recorder{TB: t}
			sdktest.Missing(r, "psql is not installed (Debian package postgresql-client)")
			msg := r.failed
			if tt.wantSkipped {
				msg = r.skipped
				assert.Empty(t, r.failed)
			} else {
				assert.Empty(t, r.skipped, "a missing prerequisite under PGDOCK_TEST_REQUIRE must fail, not skip")
			}
			assert.Contains(t, msg, "psql is not installed (Debian package postgresql-client)")
			assert.Contains(t, msg, sdktest.EnvRequire)
		})
	}
}

func TestNeedTool(t *testing.T) {
	t.Setenv(sdktest.EnvRequire, "1")
	r := &recorder{TB: t}
	sdktest.NeedTool(r, "pgdock-no-such-program", "pgdock-none")
	assert.Contains(t, r.failed, "pgdock-no-such-program is not installed (Debian package pgdock-none)")
	r = &recorder{TB: t}
	assert.Equal(t, "/bin/sh", sdktest.NeedTool(r, "/bin/sh", "dash"))
	assert.Empty(t, r.failed+r.skipped)
}

// greeter is a minimal plugin for TestServe.
type greeter struct{ sdk.Base }

func (greeter) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "greeter", Version: "1.0.0", Env: []sdk.EnvVar{{Name: "GREETER_", Prefix: true}}}, nil
}

func (greeter) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	if env["GREETER_NAME"] == "" {
		return []sdk.Problem{{Var: "GREETER_NAME", Message: "must be set"}}, nil
	}
	return nil, nil
}

func (greeter) Health(context.Context) (sdk.Health, error) {
	return sdk.Health{}, fmt.Errorf("health: database unreachable")
}

func TestServe(t *testing.T) {
	c := sdktest.Serve(t, greeter{})
	ctx := context.Background()
	d, err := c.Describe(ctx)
	require.NoError(t, err)
	assert.Equal(t, "greeter", d.Name)
	problems, err := c.Validate(ctx, map[string]string{})
	require.NoError(t, err)
	assert.Equal(t, []sdk.Problem{{Var: "GREETER_NAME", Message: "must be set"}}, problems)
	_, err = c.Health(ctx)
	require.Error(t, err)
	assert.True(t, sdk.IsHookError(err), "a hook's own error crosses the wire as a HookError: %v", err)
	assert.Contains(t, err.Error(), "database unreachable")
}
