package check

import (
	"os"
	"testing"

	"github.com/pgdock/pgdock/healthcheck/internal/pgtest"
)

// pg is the real PostgreSQL 15 these tests probe, shared by the package's
// tests; skipPG says why there is none.
var (
	pg     *pgtest.Cluster
	skipPG string
)

func TestMain(m *testing.M) {
	code := func() int {
		var err error
		pg, err = pgtest.NewCluster()
		defer pg.Close()
		if err != nil {
			skipPG = err.Error()
		}
		return m.Run()
	}()
	os.Exit(code)
}

// needPG skips t when no PostgreSQL could be started, saying why.
func needPG(t testing.TB) *pgtest.Server {
	t.Helper()
	if skipPG != "" {
		t.Skip("needs a real PostgreSQL 15: " + skipPG)
	}
	return pg.Primary
}
