package scenario

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
)

func loadPatroni(t *testing.T, env []string) error {
	t.Helper()
	p, err := composefile.Load(context.Background(), composefile.Options{
		Files:       []string{filepath.Join("..", "..", "..", PatroniCompose)},
		ProjectName: "patronitest",
		Env:         env,
	})
	if err != nil {
		return err
	}
	for _, n := range patroniNodes {
		s, ok := p.Services[n]
		require.True(t, ok, n)
		get := func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		assert.Equal(t, "true", get("PATRONI_ENABLE"), n)
		assert.Equal(t, n, get("PATRONI_NAME"), n)
		assert.Equal(t, n, get("PATRONI_REST_CONNECT_HOST"), n)
		assert.Equal(t, n, get("POSTGRESQL_CONNECT_HOST"), n)
		assert.Equal(t, strings.Join([]string{"etcd1:2379", "etcd2:2379", "etcd3:2379"}, ","), get("ETCD_HOSTS"), n)
		require.NotNil(t, s.StopGracePeriod, n)
		assert.Greater(t, time.Duration(*s.StopGracePeriod), 30*time.Second, "%s: stop_grace_period above TIMEOUT", n)
		assert.Len(t, s.Ports, 1, n)
	}
	for _, m := range etcdMembers {
		s, ok := p.Services[m]
		require.True(t, ok, m)
		assert.Equal(t, m, *s.Environment["ETCD_NAME"], m)
	}
	return nil
}

func TestPatroniCompose(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string
	}{
		{"both passwords", []string{"POSTGRES_PASSWORD=a", "REPLICATION_PASSWORD=b"}, ""},
		{"no superuser password", []string{"REPLICATION_PASSWORD=b"}, "POSTGRES_PASSWORD"},
		{"no replication password", []string{"POSTGRES_PASSWORD=a"}, "REPLICATION_PASSWORD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadPatroni(t, tc.env)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestPollGivesUpWithTheLastError(t *testing.T) {
	calls := 0
	err := poll(context.Background(), 300*time.Millisecond, func() error {
		calls++
		return errors.New("still no leader")
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "still no leader")
	assert.Greater(t, calls, 1)

	calls = 0
	assert.NoError(t, poll(context.Background(), time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}))
	assert.Equal(t, 3, calls)
}

func TestOutage(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name        string
		acks        []ack
		from        int
		last, first int
		ok          bool
	}{
		{
			name: "gap at the failover",
			acks: []ack{{1, "pg1", at(100)}, {2, "pg1", at(200)}, {3, "pg2", at(5200)}, {4, "pg2", at(5300)}},
			from: 300, last: 200, first: 5200, ok: true,
		},
		{
			name: "the old leader still acknowledges while it shuts down",
			acks: []ack{{1, "pg1", at(100)}, {2, "pg1", at(400)}, {3, "pg1", at(500)}, {4, "pg2", at(3500)}},
			from: 300, last: 500, first: 3500, ok: true,
		},
		{
			name: "the longest gap before the new leader's first write",
			acks: []ack{{1, "pg1", at(100)}, {2, "pg1", at(4000)}, {3, "pg2", at(4100)}},
			from: 300, last: 100, first: 4000, ok: true,
		},
		{
			name: "no write since",
			acks: []ack{{1, "pg1", at(100)}},
			from: 300,
		},
		{
			name: "nothing before: measured from the failover",
			acks: []ack{{1, "pg2", at(900)}},
			from: 300, last: 300, first: 900, ok: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			last, first, ok := outage(tc.acks, at(tc.from), "pg2")
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			assert.Equal(t, at(tc.last), last)
			assert.Equal(t, at(tc.first), first)
		})
	}
}

func TestRefusesConnections(t *testing.T) {
	tests := []struct {
		out  string
		want bool
	}{
		{`psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  the database system is shutting down`, true},
		{`psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: No such file or directory`, true},
		{`psql: error: connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  Peer authentication failed for user "postgres"`, false},
		{`f`, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, refusesConnections(tc.out), tc.out)
	}
}

// TestPatroniEnvKeepsTheTTLRule: the scenario's Patroni settings with the
// file's loop_wait obey loop_wait + 2 × retry_timeout ≤ ttl (Patroni's rule;
// the plugin refuses the configuration otherwise).
func TestPatroniEnvKeepsTheTTLRule(t *testing.T) {
	p, err := composefile.Load(context.Background(), composefile.Options{
		Files:       []string{filepath.Join("..", "..", "..", PatroniCompose)},
		ProjectName: "patronitest",
		Env:         []string{"POSTGRES_PASSWORD=a", "REPLICATION_PASSWORD=b"},
	})
	require.NoError(t, err)
	for _, n := range patroniNodes {
		require.NoError(t, composefile.SetEnv(p, n, patroniEnv...))
		env := p.Services[n].Environment
		num := func(k string) int {
			require.NotNil(t, env[k], "%s: %s", n, k)
			var v int
			_, err := fmt.Sscan(*env[k], &v)
			require.NoError(t, err, k)
			return v
		}
		assert.LessOrEqual(t, num("PATRONI_LOOP_WAIT")+2*num("PATRONI_RETRY_TIMEOUT"), num("PATRONI_TTL"), n)
		assert.Equal(t, "true", *env["PATRONI_SYNCHRONOUS_MODE"], n)
	}
}
