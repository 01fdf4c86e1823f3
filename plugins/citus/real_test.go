package citus

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

// TestRealCitus runs the coordinator's start against the real extension.
// Citus is not in Debian's archive, so on machines without it the test is
// skipped (never passed) with the reason; the stand-in tests cover the
// logic there.
func TestRealCitus(t *testing.T) {
	e := pgserver.Find(t)
	control := filepath.Join("/usr/share/postgresql", filepath.Base(filepath.Dir(e.Bin)), "extension", "citus.control")
	if _, err := os.Stat(control); err != nil {
		t.Skipf("skipped: needs the real Citus extension (%s not found; Citus is not in Debian, install %s)", control, Package)
	}
	ctx := context.Background()
	c := pgserver.New(t, e, pgserver.FreePort(t))
	c.Start("shared_preload_libraries=citus", "max_prepared_transactions=200")
	p := New(hclog.NewNullLogger(), Options{Hostname: func() (string, error) { return "coord.example", nil }})
	req := sdk.HookRequest{Env: map[string]string{"CITUS_ROLE": "coordinator"}, Conn: c.Conn(), Role: sdk.RolePrimary}
	require.NoError(t, p.Bootstrap(ctx, req))
	require.NoError(t, p.Started(ctx, req))
	defer p.Stopping(ctx)
	assert.Equal(t, []string{"coord.example:" + strconv.Itoa(c.Port)},
		c.Strings("SELECT nodename || ':' || nodeport FROM pg_catalog.pg_dist_node WHERE groupid = 0"))
	h := waitHealth(t, p, func(h sdk.Health) bool { return h.Details["workers"] != "" }, "a worker check")
	assert.True(t, h.Healthy, h.Message)
}
