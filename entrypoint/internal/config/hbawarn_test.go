package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHBATrustWarning: a PG_HBA_ADD_<n> rule trusting connections that can
// come from another machine gets its own warning naming the variable and
// the address (not the POSTGRES_HOST_AUTH_METHOD banner); socket and
// loopback-only rules, and rules that ask for a password, stay quiet.
func TestHBATrustWarning(t *testing.T) {
	for _, tc := range []struct {
		rule string
		warn string // "" = no warning
	}{
		{"host all all 0.0.0.0/0 trust", "from 0.0.0.0/0"},
		{"host all all ::/0 trust", "from ::/0"},
		{"hostssl app app 10.0.0.0/8 trust", "hostssl connections from 10.0.0.0/8"},
		{"host all all all trust", "from all"},
		{"host all all samenet trust", "from samenet"},
		{"host all all db.example.com trust", "from db.example.com"},
		{"host all all .example.com trust", "from .example.com"},
		{"host all all 192.168.1.5 255.255.255.255 trust", "from 192.168.1.5 255.255.255.255"},
		{"host all all 127.0.0.1 0.0.0.0 trust", "from 127.0.0.1 0.0.0.0"},
		{"host all all 0.0.0.0/1 trust", "from 0.0.0.0/1"},
		{"host all all 127.0.0.0/7 trust", "from 127.0.0.0/7"},
		{"host all all ::ffff:0:0/96 trust", "/96"},
		{"local all all trust", ""},
		{"host all all 127.0.0.1/32 trust", ""},
		{"host all all 127.0.0.0/8 trust", ""},
		{"host all all 127.0.0.1 255.0.0.0 trust", ""},
		{"host all all ::1/128 trust", ""},
		{"host all all localhost trust", ""},
		{"host all all samehost trust", ""},
		{"host all all 0.0.0.0/0 scram-sha-256", ""},
		{"host all all 0.0.0.0/0 reject", ""},
	} {
		c, err := Load(map[string]string{"PG_HBA_ADD_3": tc.rule, "POSTGRES_PASSWORD": "pw"}, nil)
		require.NoError(t, err, tc.rule)
		var got []string
		for _, w := range c.Warnings {
			if strings.Contains(w, "trust") {
				got = append(got, w)
			}
		}
		if tc.warn == "" {
			assert.Empty(t, got, tc.rule)
			continue
		}
		require.Len(t, got, 1, tc.rule)
		assert.Contains(t, got[0], "PG_HBA_ADD_3: method trust for ", tc.rule)
		assert.Contains(t, got[0], tc.warn, tc.rule)
		assert.Contains(t, got[0], "without a password", tc.rule)
		assert.NotContains(t, got[0], "POSTGRES_HOST_AUTH_METHOD", tc.rule)
	}
}
