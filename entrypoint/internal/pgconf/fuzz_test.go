package pgconf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deescapeGUCString is a small Go re-implementation of how PostgreSQL's
// configuration lexer (guc-file.l) reads a quoted value. The token must match
// the lexer's STRING rule: a single quote, then any run of characters other
// than a quote, a backslash or a newline, backslash escapes, or doubled
// quotes, then a closing quote. DeescapeQuotedString then turns \b \f \n
// \r \t and octal \ooo into bytes, any other \x into x, and a doubled
// quote into one. ok is false when s is not exactly one such token.
func deescapeGUCString(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\n':
			return "", false
		case c == '\\':
			i++
			if i >= len(body) || body[i] == '\n' {
				return "", false
			}
			switch e := body[i]; {
			case e == 'b':
				b.WriteByte('\b')
			case e == 'f':
				b.WriteByte('\f')
			case e == 'n':
				b.WriteByte('\n')
			case e == 'r':
				b.WriteByte('\r')
			case e == 't':
				b.WriteByte('\t')
			case e >= '0' && e <= '7':
				v := int(e - '0')
				for k := 0; k < 2 && i+1 < len(body) && body[i+1] >= '0' && body[i+1] <= '7'; k++ {
					i++
					v = v*8 + int(body[i]-'0')
				}
				b.WriteByte(byte(v))
			default:
				b.WriteByte(e)
			}
		case c == '\'':
			// Inside the token a quote must be doubled.
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false
			}
			i++
			b.WriteByte('\'')
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func TestDeescapeGUCString(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{in: `'abc'`, want: "abc", ok: true},
		{in: `'a''b'`, want: "a'b", ok: true},
		{in: `'a\nb'`, want: "a\nb", ok: true},
		{in: `'\101\x'`, want: "Ax", ok: true},
		{in: `'a'b'`, ok: false},
		{in: `'abc`, ok: false},
		{in: "'a\nb'", ok: false},
		{in: `'a\'`, ok: false},
	}
	for _, tt := range tests {
		got, ok := deescapeGUCString(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		if tt.ok {
			assert.Equal(t, tt.want, got, tt.in)
		}
	}
}

func FuzzQuoteValue(f *testing.F) {
	for _, s := range []string{"", "plain", "it's", `back\slash`, `\'`, "''", "#x", "a\nb", "\r", "\x00", "日本", `\101`, "a b\tc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, err := QuoteValue(v)
		if strings.ContainsAny(v, "\n\r\x00") {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.NotContains(t, q, "\n")
		require.NotContains(t, q, "\r")
		back, ok := deescapeGUCString(q)
		require.True(t, ok, "not a single configuration string token: %q", q)
		require.Equal(t, v, back)
	})
}

func FuzzParseHBARule(f *testing.F) {
	for _, s := range []string{
		"host all all all scram-sha-256",
		"local all postgres peer",
		`hostssl "my db",app +"my group",alice 10.0.0.0/8 cert clientcert=verify-full map=m`,
		"host replication replicator 192.168.1.0 255.255.255.0 md5",
		"host all all .example.com md5",
		"host all all ::1/128 trust",
		`host all all all ldap ldapserver=ldap.example.com ldapbasedn="dc=example, dc=net"`,
		`host "all" "+x" samenet reject`,
		"host all all 10.0.0.1 md5",
		`host a""b all all md5`,
		"local all all md5 # comment",
		"host all all 10.0.0.0/8 radius radiusservers=a radiussecrets=\"s,t\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseHBARule(line)
		if err != nil {
			return
		}
		s := r.String()
		r2, err := ParseHBARule(s)
		require.NoError(t, err, "canonical form %q of %q does not parse", s, line)
		require.Equal(t, r, r2, "canonical form %q of %q", s, line)
		require.Equal(t, s, r2.String())
	})
}
