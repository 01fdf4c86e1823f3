package app

import (
	"os/user"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

// Besides root, plugin files may belong to the uid the entrypoint runs as,
// unless that is the server user (privileges dropped to it, or code run by a
// database superuser): that user must never be able to change a plugin.
func TestPluginOwners(t *testing.T) {
	tests := []struct {
		name       string
		uid        int
		serverUser string
		want       []int
	}{
		{name: "root", uid: 0, serverUser: "postgres", want: nil},
		{name: "a developer's uid", uid: 4242, serverUser: "postgres", want: []int{4242}},
		{name: "unknown server user", uid: 4242, serverUser: "pgdock-no-such-user", want: []int{4242}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, pluginOwners(tt.uid, tt.serverUser))
		})
	}
	t.Run("the server user itself", func(t *testing.T) {
		u, err := user.Lookup("postgres")
		if err != nil {
			prereq.Missing(t, "no postgres OS user: "+err.Error())
		}
		uid, err := strconv.Atoi(u.Uid)
		assert.NoError(t, err)
		assert.Nil(t, pluginOwners(uid, "postgres"))
	})
}
