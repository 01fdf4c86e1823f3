package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCitusImageRef(t *testing.T) {
	t.Setenv("PGDOCK_IMAGE", "")
	assert.Equal(t, DefaultImage, Env{}.imageRef())
	t.Setenv("PGDOCK_IMAGE", "local/pg:os")
	assert.Equal(t, "local/pg:os", Env{}.imageRef(), "the caller's environment, as compose interpolates it")
	assert.Equal(t, "pgdock/postgres:16", Env{ComposeEnv: []string{"A=1", "PGDOCK_IMAGE=pgdock/postgres:16"}}.imageRef())
	assert.Equal(t, "pgdock/postgres:17", Env{PG: PGImage{Ref: "pgdock/postgres:17"}, ComposeEnv: []string{"PGDOCK_IMAGE=x"}}.imageRef())
}

func TestCitusSortedCopy(t *testing.T) {
	in := []string{"worker2:5432", "worker1:5432"}
	assert.Equal(t, []string{"worker1:5432", "worker2:5432"}, sortedCopy(in))
	assert.Equal(t, "worker2:5432", in[0], "input untouched")
}
