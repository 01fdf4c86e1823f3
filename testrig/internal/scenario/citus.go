package scenario

import (
	"context"
	"errors"
)

// Citus is the citus scenario. Placeholder until its issue builds it: it
// is not in Registry, and run by name it fails.
func Citus() Scenario {
	return Scenario{
		Name:        "citus",
		Description: "Citus coordinator plus two workers (skips with the reason when the image has no Citus)",
		Run: func(_ context.Context, t *T) {
			t.Fail("citus", errors.New("not built yet"))
		},
	}
}
