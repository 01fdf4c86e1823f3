package patroni

import (
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSystem is a host named node-a whose name resolves to 10.0.0.5.
func fakeSystem() System {
	return System{
		Hostname:   func() (string, error) { return "node-a", nil },
		LookupHost: func(string) ([]string, error) { return []string{"127.0.1.1", "10.0.0.5"}, nil },
		Addrs: func() ([]net.Addr, error) {
			return []net.Addr{&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)}}, nil
		},
	}
}

func baseEnv() map[string]string {
	return map[string]string{EnvReplicationPass: "repl-secret", EnvETCDHosts: "etcd1:2379,etcd2,10.1.1.1:2380"}
}

func with(kv ...string) map[string]string {
	env := baseEnv()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestLoadDefaults(t *testing.T) {
	c, problems := Load(baseEnv(), fakeSystem())
	require.Empty(t, problems)
	assert.Equal(t, Config{
		Scope: "postgres-cluster", Name: "node-a", RESTPort: 8008,
		RESTConnectHost: "10.0.0.5", PGConnectHost: "10.0.0.5",
		ETCDHosts: []string{"etcd1:2379", "etcd2:2379", "10.1.1.1:2380"},
		TTL:       30, LoopWait: 10, RetryTimeout: 10, MaxLag: 1048576,
		UsePGRewind: true, UseSlots: true,
		ReplicationUser: "replicator", ReplicationPassword: "repl-secret",
		Superuser: "postgres", HostAuthMethod: "scram-sha-256", ExternalAccess: true,
	}, c)
}

func TestLoadValues(t *testing.T) {
	env := with(EnvScope, "prod", EnvName, "pg-1", EnvRESTPort, "9008", EnvRESTConnectHost, "pg-1.example",
		EnvPGConnectHost, "10.2.0.1", EnvTTL, "10", EnvLoopWait, "2", EnvRetryTimeout, "4", EnvMaxLag, "0",
		EnvUsePGRewind, "OFF", EnvUseSlots, "no", EnvSyncMode, "Yes", EnvSyncModeStrict, "1",
		EnvReplicationUser, "repl", EnvRESTUsername, "admin", EnvRESTPassword, "p:w", EnvPostgresUser, "dba",
		EnvPostgresPassword, "su#pw", EnvInitdbArgs, "--data-checksums -E SQL_ASCII", EnvLang, "en_US.utf8",
		EnvEnable, "TRUE", EnvHostAuthMethod, " md5 ")
	c, problems := Load(env, fakeSystem())
	require.Empty(t, problems)
	assert.Equal(t, Config{
		Scope: "prod", Name: "pg-1", RESTPort: 9008, RESTConnectHost: "pg-1.example", PGConnectHost: "10.2.0.1",
		ETCDHosts: []string{"etcd1:2379", "etcd2:2379", "10.1.1.1:2380"},
		TTL:       10, LoopWait: 2, RetryTimeout: 4, MaxLag: 0, SyncMode: true, SyncModeStrict: true,
		ReplicationUser: "repl", ReplicationPassword: "repl-secret", RESTUsername: "admin", RESTPassword: "p:w",
		Superuser: "dba", SuperuserPassword: "su#pw", InitdbArgs: []string{"--data-checksums", "-E", "SQL_ASCII"},
		Locale: "en_US.utf8", HostAuthMethod: "md5", ExternalAccess: true,
	}, c)
}

func TestLoadConnectHostFallback(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		sys        System
		rest, pg   string
		wantProble string
	}{
		{"rest only", with(EnvRESTConnectHost, "a.example"), fakeSystem(), "a.example", "a.example", ""},
		{"pg only", with(EnvPGConnectHost, "10.9.9.9"), fakeSystem(), "10.9.9.9", "10.9.9.9", ""},
		{"localhost when asked", with(EnvRESTConnectHost, "localhost"), fakeSystem(), "localhost", "localhost", ""},
		{"interface address when the name resolves to loopback only", baseEnv(), System{
			Hostname:   func() (string, error) { return "x", nil },
			LookupHost: func(string) ([]string, error) { return []string{"127.0.1.1"}, nil },
			Addrs: func() ([]net.Addr, error) {
				return []net.Addr{&net.IPNet{IP: net.ParseIP("127.0.0.1")}, &net.IPNet{IP: net.ParseIP("fd00::5")}, &net.IPNet{IP: net.ParseIP("172.18.0.3")}}, nil
			},
		}, "172.18.0.3", "172.18.0.3", ""},
		{"no address at all", baseEnv(), System{
			Hostname:   func() (string, error) { return "x", nil },
			LookupHost: func(string) ([]string, error) { return nil, errors.New("nxdomain") },
			Addrs:      func() ([]net.Addr, error) { return []net.Addr{&net.IPNet{IP: net.ParseIP("127.0.0.1")}}, nil },
		}, "", "", EnvRESTConnectHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, problems := Load(tt.env, tt.sys)
			if tt.wantProble != "" {
				require.Len(t, problems, 1)
				assert.Equal(t, tt.wantProble, problems[0].Var)
				return
			}
			require.Empty(t, problems)
			assert.Equal(t, tt.rest, c.RESTConnectHost)
			assert.Equal(t, tt.pg, c.PGConnectHost)
		})
	}
}

func TestLoadETCDHosts(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    []string
		wantVar string
		wantMsg string
	}{
		{"single host default port", with(EnvETCDHosts, "<unset>", EnvETCDHost, "etcd"), []string{"etcd:2379"}, "", ""},
		{"single host and port", with(EnvETCDHosts, "<unset>", EnvETCDHost, "etcd", EnvETCDPort, "12379"), []string{"etcd:12379"}, "", ""},
		{"list takes ETCD_PORT for bare hosts", with(EnvETCDHosts, "a, b:1;c", EnvETCDPort, "3000"), []string{"a:3000", "b:1", "c:3000"}, "", ""},
		{"ipv6", with(EnvETCDHosts, "[fd00::1]:2379,[fd00::2],fd00::3"), []string{"[fd00::1]:2379", "[fd00::2]:2379", "[fd00::3]:2379"}, "", ""},
		{"legacy name", with(EnvETCDHosts, "<unset>", EnvLegacyETCDHosts, "x:1"), []string{"x:1"}, "", ""},
		{"none", with(EnvETCDHosts, "<unset>"), nil, EnvETCDHosts, "is required"},
		{"both", with(EnvETCDHost, "x"), nil, EnvETCDHost, "not both"},
		{"scheme", with(EnvETCDHosts, "http://a:2379"), nil, EnvETCDHosts, "without a scheme"},
		{"bad port", with(EnvETCDHosts, "a:99999"), nil, EnvETCDHosts, `port "99999"`},
		{"bad host", with(EnvETCDHosts, "a_b:1"), nil, EnvETCDHosts, "not a host name"},
		{"empty list", with(EnvETCDHosts, " , "), nil, EnvETCDHosts, "holds no host"},
		{"duplicate", with(EnvETCDHosts, "a,a:2379"), nil, EnvETCDHosts, "twice"},
		{"bad ETCD_PORT", with(EnvETCDHosts, "<unset>", EnvETCDHost, "a", EnvETCDPort, "x"), nil, EnvETCDPort, "TCP port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, problems := Load(tt.env, fakeSystem())
			if tt.wantVar == "" {
				require.Empty(t, problems)
				assert.Equal(t, tt.want, c.ETCDHosts)
				return
			}
			require.NotEmpty(t, problems)
			assert.Equal(t, tt.wantVar, problems[0].Var)
			assert.Contains(t, problems[0].Message, tt.wantMsg)
		})
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
		wantMsg string
	}{
		{"replication password missing", with(EnvReplicationPass, "<unset>"), EnvReplicationPass, "is required"},
		{"replication password with newline", with(EnvReplicationPass, "a\nb"), EnvReplicationPass, "single line"},
		{"bad bool", with(EnvUseSlots, "maybe"), EnvUseSlots, "must be a boolean"},
		{"bad enable", with(EnvEnable, "2"), EnvEnable, "must be a boolean"},
		{"ttl rule", with(EnvTTL, "20"), EnvTTL, "must not exceed"},
		{"ttl not a number", with(EnvTTL, "30s"), EnvTTL, "whole number"},
		{"loop wait zero", with(EnvLoopWait, "0"), EnvLoopWait, "≥ 1"},
		{"negative lag", with(EnvMaxLag, "-1"), EnvMaxLag, "≥ 0"},
		{"port", with(EnvRESTPort, "0"), EnvRESTPort, "TCP port"},
		{"scope", with(EnvScope, "a/b"), EnvScope, "not a valid cluster name"},
		{"name", with(EnvName, "node 1"), EnvName, "not a valid node name"},
		{"connect host with port", with(EnvRESTConnectHost, "a:8008"), EnvRESTConnectHost, "without port"},
		{"strict without sync", with(EnvSyncModeStrict, "true"), EnvSyncModeStrict, "needs"},
		{"rest user only", with(EnvRESTUsername, "u"), EnvRESTPassword, "together"},
		{"rest password only", with(EnvRESTPassword, "p"), EnvRESTUsername, "together"},
		{"rest user colon", with(EnvRESTUsername, "u:x", EnvRESTPassword, "p"), EnvRESTUsername, "':'"},
		{"replication user = superuser", with(EnvReplicationUser, "postgres"), EnvReplicationUser, "must differ"},
		{"bad role", with(EnvReplicationUser, "a b"), EnvReplicationUser, "role name"},
		{"unknown PATRONI_ var", with("PATRONI_WATCHDOG_MODE", "off"), "PATRONI_WATCHDOG_MODE", "not a setting"},
		{"initdb username", with(EnvInitdbArgs, "-U bob"), EnvInitdbArgs, "POSTGRES_USER"},
		{"initdb unparsable", with(EnvInitdbArgs, `"--data-checksums`), EnvInitdbArgs, "cannot be split"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := Load(tt.env, fakeSystem())
			require.Len(t, problems, 1, "%v", problems)
			assert.Equal(t, tt.wantVar, problems[0].Var)
			assert.Contains(t, problems[0].Message, tt.wantMsg)
		})
	}
}

func TestLoadReportsEverythingAtOnceWithoutSecrets(t *testing.T) {
	env := map[string]string{EnvRESTPassword: "hunter2-secret", EnvTTL: "x", EnvUseSlots: "maybe", EnvRESTPort: "70000"}
	_, problems := Load(env, fakeSystem())
	vars := map[string]bool{}
	for _, p := range problems {
		vars[p.Var] = true
		assert.NotContains(t, p.Message, "hunter2-secret")
	}
	for _, v := range []string{EnvReplicationPass, EnvETCDHosts, EnvTTL, EnvUseSlots, EnvRESTPort, EnvRESTUsername} {
		assert.True(t, vars[v], "no problem for %s in %v", v, problems)
	}
}

func TestInitdbOptions(t *testing.T) {
	tests := []struct {
		args    string
		locale  string
		want    []any
		wantErr string
	}{
		{"", "", []any{map[string]string{"encoding": "UTF8"}}, ""},
		{"", "en_US.utf8", []any{map[string]string{"encoding": "UTF8"}, map[string]string{"locale": "en_US.utf8"}}, ""},
		{"--data-checksums", "", []any{map[string]string{"encoding": "UTF8"}, "data-checksums"}, ""},
		{"-k -E LATIN1 --lc-collate=C", "en_US.utf8", []any{"data-checksums", map[string]string{"encoding": "LATIN1"}, map[string]string{"lc-collate": "C"}}, ""},
		{"--locale C --auth-host=md5", "x", []any{map[string]string{"encoding": "UTF8"}, map[string]string{"locale": "C"}, map[string]string{"auth-host": "md5"}}, ""},
		{"--no-data-checksums", "", []any{map[string]string{"encoding": "UTF8"}, "no-data-checksums"}, ""}, // PostgreSQL 18
		{"--no-sync-data-files -T german", "", []any{map[string]string{"encoding": "UTF8"}, "no-sync-data-files", map[string]string{"text-search-config": "german"}}, ""},
		{"--locale-provider=builtin --builtin-locale=C.UTF-8 --sync-method=syncfs", "", []any{map[string]string{"encoding": "UTF8"},
			map[string]string{"locale-provider": "builtin"}, map[string]string{"builtin-locale": "C.UTF-8"}, map[string]string{"sync-method": "syncfs"}}, ""}, // PostgreSQL 17
		{"--pgdata=/x", "", nil, "PGDATA"},
		{"--nosync", "", nil, "refuses"},
		{"--frobnicate", "", nil, "not known"},
		{"--encoding", "", nil, "needs a value"},
		{"--data-checksums=yes", "", nil, "takes no value"},
		{"plain", "", nil, "not an initdb option"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, err := InitdbOptions(strings.Fields(tt.args), tt.locale)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
