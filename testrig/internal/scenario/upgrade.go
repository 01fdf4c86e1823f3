package scenario

import (
	"context"
	"errors"
)

// Upgrade is the upgrade scenario. Placeholder until its issue builds it: it
// is not in Registry, and run by name it fails.
func Upgrade() Scenario {
	return Scenario{
		Name:        "upgrade",
		Description: "a PostgreSQL 13 volume upgraded in place to 15 and 17",
		Run: func(_ context.Context, t *T) {
			t.Fail("upgrade", errors.New("not built yet"))
		},
	}
}
