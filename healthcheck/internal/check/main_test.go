package check

import (
	"os"
	"testing"

	"github.com/pgdock/pgdock/healthcheck/internal/pgtest"
)

// pg is the real PostgreSQL 15 these tests probe, shared by the package's tests.
var pg *pgtest.Shared

func TestMain(m *testing.M) {
	code := func() int {
		pg = pgtest.NewShared()
		defer pg.Close()
		return m.Run()
	}()
	os.Exit(code)
}
