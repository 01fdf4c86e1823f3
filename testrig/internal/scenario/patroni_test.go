package scenario

import (
	"context"
	"errors"
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
