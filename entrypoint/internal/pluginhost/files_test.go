package pluginhost

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// TestPluginFiles: the files a mode command returns follow Configure's
// rules: relative, inside the plugin's directory, 0600 by default, never
// world-accessible.
func TestPluginFiles(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		files   []sdk.File
		want    []File
		wantErr string
	}{
		{"none", "/files", nil, nil, ""},
		{"default mode and cleaned path", "/files", []sdk.File{{Path: "a/./patroni.yml", Content: []byte("x")}},
			[]File{{Plugin: "p", Path: "/files/p/a/patroni.yml", Content: []byte("x"), Mode: 0o600}}, ""},
		{"group read kept", "/files", []sdk.File{{Path: "b", Mode: 0o640}}, []File{{Plugin: "p", Path: "/files/p/b", Mode: 0o640}}, ""},
		{"dot-dot refused", "/files", []sdk.File{{Path: "../q/x"}}, nil, "leaves the plugin's files directory"},
		{"absolute refused", "/files", []sdk.File{{Path: "/etc/x"}}, nil, "must be relative"},
		{"world access refused", "/files", []sdk.File{{Path: "x", Mode: 0o644}}, nil, "gives access to others"},
		{"no files dir", "", []sdk.File{{Path: "x"}}, nil, "FilesDir is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pluginFiles("p", tt.dir, tt.files)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
