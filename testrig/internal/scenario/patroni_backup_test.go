package scenario

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
)

func loadPatroniBackup(t *testing.T, env []string) *types.Project {
	t.Helper()
	root := filepath.Join("..", "..", "..")
	p, err := composefile.Load(context.Background(), composefile.Options{
		Files:       []string{filepath.Join(root, PatroniCompose), filepath.Join(root, PatroniBackupCompose)},
		ProjectName: "patronibackuptest",
		Env:         append([]string{"POSTGRES_PASSWORD=a", "REPLICATION_PASSWORD=b"}, env...),
	})
	require.NoError(t, err)
	return p
}

func TestPatroniBackupCompose(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{
			name: "defaults: stanza pgdock, a daily full, nothing else scheduled",
			want: map[string]string{
				"PGBACKREST_STANZA":        "pgdock",
				"PGBACKREST_SCHEDULE_FULL": "0 1 * * *",
				"PGBACKREST_SCHEDULE_DIFF": "",
				"PGBACKREST_SCHEDULE_INCR": "",
			},
		},
		{
			name: "the scenario's: stanza rig, no schedule",
			env:  []string{"PGBACKREST_STANZA=" + patroniBackupStanza, "PGBACKREST_SCHEDULE_FULL="},
			want: map[string]string{
				"PGBACKREST_STANZA":        patroniBackupStanza,
				"PGBACKREST_SCHEDULE_FULL": "",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := loadPatroniBackup(t, tc.env)
			require.Contains(t, p.Volumes, volRepo)
			for _, n := range patroniNodes {
				s, ok := p.Services[n]
				require.True(t, ok, n)
				for k, v := range map[string]string{
					"PGBACKREST_ENABLE":    "true",
					"PGBACKREST_REPO_TYPE": "posix",
					"PGBACKREST_REPO_PATH": "/var/lib/pgbackrest",
					// compose.yaml's settings survive the merge
					"PATRONI_ENABLE": "true",
					"PATRONI_NAME":   n,
				} {
					got, ok := envOf(s, k)
					assert.True(t, ok, "%s: %s", n, k)
					assert.Equal(t, v, got, "%s: %s", n, k)
				}
				for k, v := range tc.want {
					got, ok := envOf(s, k)
					assert.True(t, ok, "%s: %s", n, k)
					assert.Equal(t, v, got, "%s: %s", n, k)
				}
				assert.Equal(t, volRepo, mountOf(s, "/var/lib/pgbackrest"), "%s: the shared repository", n)
				assert.Equal(t, n, mountOf(s, DefaultPGData), "%s: its own data volume, named after it (the scenario removes it by that key)", n)
			}
			for _, m := range etcdMembers {
				_, ok := envOf(p.Services[m], "PGBACKREST_ENABLE")
				assert.False(t, ok, "%s: etcd gets nothing", m)
			}
		})
	}
}

func TestPatroniBackupScenario(t *testing.T) {
	s := PatroniBackup()
	assert.Equal(t, "patroni-backup", s.Name)
	assert.NotEmpty(t, s.Description)
	assert.NotEmpty(t, s.Budgets)
	assert.NotNil(t, s.Run)
	var found bool
	for _, o := range Registry() {
		found = found || o.Name == s.Name
	}
	assert.True(t, found, "patroni-backup is in the default run")
}

func TestPgdockErrorLine(t *testing.T) {
	for line, want := range map[string]bool{
		`2026-12-03T23:10:00Z [ERROR] pgbackrest: stanza-create failed`:                           true,
		`{"level":"error","msg":"x"}`:                                                             true,
		`2026-12-03 23:10:00,123 ERROR: Error creating replica using method pgbackrest: … code=1`: false,
		`2026-12-03 23:10:00.123 UTC [55] FATAL:  could not receive data from WAL stream: …`:      false,
		`P00  ERROR: [075]: no backup set found to restore`:                                       false,
		`2026-12-03T23:10:00Z [INFO]  pgbackrest: stanza ready`:                                   false,
	} {
		assert.Equal(t, want, pgdockError.MatchString(line), line)
	}
}
