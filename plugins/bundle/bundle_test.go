package bundle

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		argv0   string
		want    string
		wantErr string
	}{
		{"pgdock-plugin-example", "example", ""},
		{"/usr/lib/pgdock/plugins/pgdock-plugin-example", "example", ""},
		{"./pgdock-plugin-example", "example", ""},
		{"pgdock-plugin-patroni", "patroni", ""},
		{"pgdock-plugin-nosuch", "", `no plugin "nosuch"`},
		{"pgdock-plugin-", "", "install this binary as pgdock-plugin-<name>"},
		{"pgdock-plugins", "", "install this binary as pgdock-plugin-<name>"},
		{"/proc/self/fd/3", "", "install this binary as pgdock-plugin-<name>"},
		{"pgdock-plugin-example.bak", "", `no plugin "example.bak"`},
	}
	for _, tt := range tests {
		t.Run(tt.argv0, func(t *testing.T) {
			p, err := Lookup(tt.argv0)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, p.Name)
			assert.NotNil(t, p.Main)
		})
	}
}

func TestPluginsAreUniqueAndSorted(t *testing.T) {
	names := Names()
	require.NotEmpty(t, names)
	assert.True(t, slices.IsSorted(names), "names sorted: %v", names)
	assert.Equal(t, len(names), len(slices.Compact(slices.Clone(names))), "names unique: %v", names)
	for _, p := range Plugins() {
		assert.NotNil(t, p.Main, p.Name)
	}
}
