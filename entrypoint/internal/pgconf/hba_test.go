package pgconf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHBARuleValid(t *testing.T) {
	tests := []struct {
		line      string
		want      HBARule
		canonical string
	}{
		{
			line:      "host all all all scram-sha-256",
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: "all", Method: "scram-sha-256"},
			canonical: "host all all all scram-sha-256",
		},
		{
			line:      "local\tall\t  postgres   peer",
			want:      HBARule{Type: "local", Databases: []string{"all"}, Users: []string{"postgres"}, Method: "peer"},
			canonical: "local all postgres peer",
		},
		{
			line:      "local all all ident map=omicron",
			want:      HBARule{Type: "local", Databases: []string{"all"}, Users: []string{"all"}, Method: "ident", Options: []string{"map=omicron"}},
			canonical: "local all all ident map=omicron",
		},
		{
			line:      "host replication replicator 192.168.1.0 255.255.255.0 md5",
			want:      HBARule{Type: "host", Databases: []string{"replication"}, Users: []string{"replicator"}, Address: "192.168.1.0", Mask: "255.255.255.0", Method: "md5"},
			canonical: "host replication replicator 192.168.1.0 255.255.255.0 md5",
		},
		{
			line:      "host db1, db2 alice,bob 10.0.0.0/8 md5",
			want:      HBARule{Type: "host", Databases: []string{"db1", "db2"}, Users: []string{"alice", "bob"}, Address: "10.0.0.0/8", Method: "md5"},
			canonical: "host db1,db2 alice,bob 10.0.0.0/8 md5",
		},
		{
			line:      `hostssl "my db","all" +admins,+"ops team","+literal" ::/0 cert clientcert=verify-full`,
			want:      HBARule{Type: "hostssl", Databases: []string{`"my db"`, `"all"`}, Users: []string{"+admins", `+"ops team"`, `"+literal"`}, Address: "::/0", Method: "cert", Options: []string{"clientcert=verify-full"}},
			canonical: `hostssl "my db","all" +admins,+"ops team","+literal" ::/0 cert clientcert=verify-full`,
		},
		{
			line:      `host "app" "alice" samenet reject`,
			want:      HBARule{Type: "host", Databases: []string{"app"}, Users: []string{"alice"}, Address: "samenet", Method: "reject"},
			canonical: "host app alice samenet reject",
		},
		{
			line:      "host all all .example.com md5",
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: ".example.com", Method: "md5"},
			canonical: "host all all .example.com md5",
		},
		{
			line:      "host all all my_service-1 trust",
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: "my_service-1", Method: "trust"},
			canonical: "host all all my_service-1 trust",
		},
		{
			line:      "hostnossl sameuser all 0:0::1/128 password",
			want:      HBARule{Type: "hostnossl", Databases: []string{"sameuser"}, Users: []string{"all"}, Address: "::1/128", Method: "password"},
			canonical: "hostnossl sameuser all ::1/128 password",
		},
		{
			line:      `host all all all ldap ldapserver=ldap.example.com "ldapbasedn=dc=example, dc=net" ldapsearchattribute=uid`,
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: "all", Method: "ldap", Options: []string{"ldapserver=ldap.example.com", "ldapbasedn=dc=example, dc=net", "ldapsearchattribute=uid"}},
			canonical: `host all all all ldap ldapserver=ldap.example.com ldapbasedn="dc=example, dc=net" ldapsearchattribute=uid`,
		},
		{
			line:      `host all all 10.1.2.3/32 radius radiusservers="r1,r2" radiussecrets=s3cret`,
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: "10.1.2.3/32", Method: "radius", Options: []string{"radiusservers=r1,r2", "radiussecrets=s3cret"}},
			canonical: `host all all 10.1.2.3/32 radius radiusservers="r1,r2" radiussecrets=s3cret`,
		},
		{
			line:      `hostgssenc all all all gss include_realm=0 krb_realm=EXAMPLE.COM`,
			want:      HBARule{Type: "hostgssenc", Databases: []string{"all"}, Users: []string{"all"}, Address: "all", Method: "gss", Options: []string{"include_realm=0", "krb_realm=EXAMPLE.COM"}},
			canonical: `hostgssenc all all all gss include_realm=0 krb_realm=EXAMPLE.COM`,
		},
		{
			line:      `hostnogssenc "sameuser","#hash" "all" samehost "md5"`,
			want:      HBARule{Type: "hostnogssenc", Databases: []string{`"sameuser"`, `"#hash"`}, Users: []string{`"all"`}, Address: "samehost", Method: "md5"},
			canonical: `hostnogssenc "sameuser","#hash" "all" samehost md5`,
		},
		{
			line:      `local @ "@x" pam pamservice=postgresql`,
			want:      HBARule{Type: "local", Databases: []string{`"@"`}, Users: []string{`"@x"`}, Method: "pam", Options: []string{"pamservice=postgresql"}},
			canonical: `local "@" "@x" pam pamservice=postgresql`,
		},
		{
			line:      `host all all all md5   `,
			want:      HBARule{Type: "host", Databases: []string{"all"}, Users: []string{"all"}, Address: "all", Method: "md5"},
			canonical: `host all all all md5`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseHBARule(tt.line)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.canonical, got.String())
			again, err := ParseHBARule(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestParseHBARuleInvalid(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		line    string
		wantErr string
	}{
		{line: "", wantErr: "empty rule"},
		{line: "   ", wantErr: "empty rule"},
		{line: "hots all all all md5", wantErr: `invalid connection type "hots"`},
		{line: "host,local all all all md5", wantErr: "multiple values specified for connection type"},
		{line: "host", wantErr: "before database"},
		{line: "host all", wantErr: "before role"},
		{line: "host all all", wantErr: "before IP address"},
		{line: "host all all md5", wantErr: "the address is missing"},
		{line: "host all all 10.0.0.0/8", wantErr: "before authentication method"},
		{line: "host all all 10.0.0.0/8 md6", wantErr: `invalid authentication method "md6"`},
		{line: "host all all 10.0.0.0/8 md5,trust", wantErr: "multiple values specified for authentication method"},
		{line: "local all all 127.0.0.1/32 trust", wantErr: "local rules take no address"},
		{line: "host all all 10.0.0.0/33 md5", wantErr: "invalid CIDR mask"},
		{line: "host all all 10.0.0.0/x md5", wantErr: "invalid CIDR mask"},
		{line: "host all all 10.0.0.0/ md5", wantErr: "invalid CIDR mask"},
		{line: "host all all 300.1.1.1/8 md5", wantErr: "invalid IP address"},
		{line: "host all all db.example.com/24 md5", wantErr: "both host name and CIDR mask"},
		{line: "host all all 10.0.0.1 md5", wantErr: "invalid IP mask"},
		{line: "host all all 10.0.0.1", wantErr: "before netmask"},
		{line: "host all all 10.0.0.1 255.0.255.0 md5", wantErr: "not a contiguous netmask"},
		{line: "host all all 10.0.0.1 ffff:: md5", wantErr: "do not match"},
		{line: "host all all 10.1 md5", wantErr: "invalid IP address or host name"},
		{line: "host all all fe80::1%eth0/64 md5", wantErr: "zones are not supported"},
		{line: "host all all 10.0.0.0/8,10.1.0.0/16 md5", wantErr: "multiple values specified for host address"},
		{line: `host all all "all" md5`, wantErr: "must not be quoted"},
		{line: "host all all bad!host md5", wantErr: "invalid IP address or host name"},
		{line: "host all all all peer", wantErr: "peer authentication is only supported on local sockets"},
		{line: "local all all gss", wantErr: "gssapi authentication is not supported on local sockets"},
		{line: "host all all all cert", wantErr: "cert authentication is only supported on hostssl"},
		{line: "host all all all sspi", wantErr: "not supported by this build"},
		{line: "local all all bsd", wantErr: "not supported by this build"},
		{line: "host all all all md5 # remote", wantErr: "comments"},
		{line: "host all all#x all md5", wantErr: "comments"},
		{line: "host @dbs all all md5", wantErr: "@file inclusion"},
		{line: "host all @users all md5", wantErr: "@file inclusion"},
		{line: "host all + all md5", wantErr: `"+" must be followed`},
		{line: `host "a""b" all all md5`, wantErr: "doubled double quote"},
		{line: `host "abc all all md5`, wantErr: "unterminated"},
		{line: `host "" all all md5`, wantErr: "empty name"},
		{line: "host a,,b all all md5", wantErr: "empty element"},
		{line: "host a, all all md5", wantErr: "the address is missing"}, // "a, all" is one list, as in PostgreSQL
		{line: "host a,", wantErr: "empty element"},
		{line: "host all all all md5\nhost all all all trust", wantErr: "newline"},
		{line: "host all all all md5\r", wantErr: "carriage return"},
		{line: "host all all all md5\x00", wantErr: "NUL"},
		{line: `host all all all md5 \`, wantErr: "backslash"},
		{line: "host all all all md5 foo", wantErr: "not in name=value format"},
		{line: "host all all all md5 secret=hunter2", wantErr: `unrecognized authentication option name "secret"`},
		{line: "host all all all md5 map=x", wantErr: `option "map" is only valid`},
		{line: "host all all all md5 clientcert=verify-ca", wantErr: "hostssl"},
		{line: "hostssl all all all md5 clientcert=yes", wantErr: "invalid value for clientcert"},
		{line: "hostssl all all all cert clientcert=verify-ca", wantErr: "verify-full"},
		{line: "hostssl all all all md5 clientname=UID", wantErr: "clientname"},
		{line: "host all all all ldap ldapserver=x", wantErr: "requires option"},
		{line: "host all all all ldap ldapprefix=cn= ldapbasedn=dc=x", wantErr: "together with ldapprefix"},
		{line: "host all all all ldap ldapbasedn=dc=x ldapsearchattribute=uid ldapsearchfilter=(uid=$username)", wantErr: "ldapsearchattribute together with ldapsearchfilter"},
		{line: "host all all all ldap ldapbasedn=dc=x ldapport=0", wantErr: "ldapport"},
		{line: "host all all all ldap ldapbasedn=dc=x ldapscheme=http", wantErr: "ldapscheme"},
		{line: "host all all all radius radiusservers=r", wantErr: "requires option radiussecrets"},
		{line: "host " + long + " all all md5", wantErr: "at most 255"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := ParseHBARule(tt.line)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestParseHBARuleNeverEchoesOptionValues(t *testing.T) {
	for _, line := range []string{
		"host all all all md5 ldapbindpasswd=hunter2",
		"host all all all ldap ldapbasedn=dc=x ldapbindpasswd=hunter2 ldapprefix=hunter2",
		"host all all all radius radiussecrets=hunter2",
		`host all all all md5 hunter2`,
	} {
		_, err := ParseHBARule(line)
		require.Error(t, err, line)
		assert.NotContains(t, err.Error(), "hunter2", line)
	}
}

func TestQuoteHBAToken(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "alice", want: `"alice"`},
		{in: "all", want: `"all"`},
		{in: "+admins", want: `"+admins"`},
		{in: "my db #1, prod", want: `"my db #1, prod"`},
		{in: "Ünïcode", want: `"Ünïcode"`},
		{in: "", wantErr: "empty"},
		{in: `say "hi"`, wantErr: "double quote"},
		{in: "a\nb", wantErr: "newline"},
		{in: strings.Repeat("n", 256), wantErr: "at most 255"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := QuoteHBAToken(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// The quoted token names exactly that role in a rule.
			r, err := ParseHBARule("host all " + got + " all md5")
			require.NoError(t, err)
			require.Len(t, r.Users, 1)
			assert.Equal(t, tt.in, strings.Trim(r.Users[0], `"`))
			assert.False(t, strings.HasPrefix(r.Users[0], "+"))
		})
	}
}
