package scenario

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

func loadBackup(t *testing.T, profiles, env []string) (*types.Project, error) {
	t.Helper()
	return composefile.Load(context.Background(), composefile.Options{
		Files:       []string{filepath.Join("..", "..", "..", BackupCompose)},
		ProjectName: "backuptest",
		Profiles:    profiles,
		Env:         env,
	})
}

// envOf is a service's environment: value and whether the variable is
// passed at all (a nil value is left out, as compose does).
func envOf(s types.ServiceConfig, k string) (string, bool) {
	v, ok := s.Environment[k]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

func mountOf(s types.ServiceConfig, target string) string {
	for _, v := range s.Volumes {
		if v.Target == target {
			return v.Source
		}
	}
	return ""
}

func TestBackupCompose(t *testing.T) {
	pw := "PGDOCK_PASSWORD_FILE=/dev/null"
	tests := []struct {
		name     string
		profiles []string
		env      []string
		wantErr  string
		check    func(t *testing.T, p *types.Project)
	}{
		{
			name:    "no password file",
			wantErr: "PGDOCK_PASSWORD_FILE",
		},
		{
			name: "defaults: daily full, hourly incremental, no restore service",
			env:  []string{pw},
			check: func(t *testing.T, p *types.Project) {
				require.Contains(t, p.Services, svcPostgres)
				assert.NotContains(t, p.Services, svcRestore, "restore is in a profile")
				s := p.Services[svcPostgres]
				want := map[string]string{
					"PGBACKREST_ENABLE":        "true",
					"PGBACKREST_STANZA":        "pgdock",
					"PGBACKREST_REPO_TYPE":     "posix",
					"PGBACKREST_REPO_PATH":     "/var/lib/pgbackrest",
					"PGBACKREST_SCHEDULE_FULL": "0 1 * * *",
					"PGBACKREST_SCHEDULE_DIFF": "",
					"PGBACKREST_SCHEDULE_INCR": "0 * * * *",
					"POSTGRES_PASSWORD_FILE":   "/run/secrets/postgres_password",
				}
				for k, v := range want {
					got, ok := envOf(s, k)
					assert.True(t, ok, k)
					assert.Equal(t, v, got, k)
				}
				_, restore := envOf(s, "PGBACKREST_RESTORE")
				assert.False(t, restore, "the source never restores")
				assert.Equal(t, volRepo, mountOf(s, "/var/lib/pgbackrest"))
				assert.Equal(t, volPGData, mountOf(s, "/var/lib/postgresql/data"))
				require.NotNil(t, s.StopGracePeriod)
				assert.Greater(t, time.Duration(*s.StopGracePeriod), 30*time.Second, "stop_grace_period above TIMEOUT")
			},
		},
		{
			name: "the scenario's schedule: full off, incremental every minute",
			env:  []string{pw, "PGBACKREST_SCHEDULE_FULL=", "PGBACKREST_SCHEDULE_INCR=* * * * *", "PGBACKREST_STANZA=rig"},
			check: func(t *testing.T, p *types.Project) {
				s := p.Services[svcPostgres]
				full, ok := envOf(s, "PGBACKREST_SCHEDULE_FULL")
				assert.True(t, ok)
				assert.Equal(t, "", full, "an empty value turns the schedule off")
				incr, _ := envOf(s, "PGBACKREST_SCHEDULE_INCR")
				assert.Equal(t, "* * * * *", incr)
				stanza, _ := envOf(s, "PGBACKREST_STANZA")
				assert.Equal(t, "rig", stanza)
			},
		},
		{
			name:     "restore profile: latest, same repository and stanza, fresh data volume, no archiving",
			profiles: []string{profileRestore},
			env:      []string{pw},
			check: func(t *testing.T, p *types.Project) {
				require.Contains(t, p.Services, svcRestore)
				r, s := p.Services[svcRestore], p.Services[svcPostgres]
				v, _ := envOf(r, "PGBACKREST_RESTORE")
				assert.Equal(t, "true", v)
				v, _ = envOf(r, "PGBACKREST_ARCHIVE_ENABLE")
				assert.Equal(t, "false", v)
				for _, k := range []string{"PGBACKREST_RESTORE_TYPE", "PGBACKREST_RESTORE_TARGET", "PGBACKREST_RESTORE_TARGET_ACTION", "PGBACKREST_SCHEDULE_INCR"} {
					_, ok := envOf(r, k)
					assert.False(t, ok, "%s not passed when unset", k)
				}
				a, _ := envOf(r, "PGBACKREST_STANZA")
				b, _ := envOf(s, "PGBACKREST_STANZA")
				assert.Equal(t, b, a)
				assert.Equal(t, volRepo, mountOf(r, "/var/lib/pgbackrest"))
				assert.Equal(t, volRestoreData, mountOf(r, "/var/lib/postgresql/data"))
				assert.Len(t, r.Ports, 1)
			},
		},
		{
			name:     "restore profile: point in time from the environment",
			profiles: []string{profileRestore},
			env: []string{pw, "PGBACKREST_RESTORE_TYPE=time", "PGBACKREST_RESTORE_TARGET=2026-12-03 18:40:00.5+00",
				"PGBACKREST_RESTORE_TARGET_ACTION=promote", "RESTORE_ARCHIVE_ENABLE=true"},
			check: func(t *testing.T, p *types.Project) {
				r := p.Services[svcRestore]
				for k, want := range map[string]string{
					"PGBACKREST_RESTORE_TYPE":          "time",
					"PGBACKREST_RESTORE_TARGET":        "2026-12-03 18:40:00.5+00",
					"PGBACKREST_RESTORE_TARGET_ACTION": "promote",
					"PGBACKREST_ARCHIVE_ENABLE":        "true",
				} {
					got, ok := envOf(r, k)
					assert.True(t, ok, k)
					assert.Equal(t, want, got, k)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := loadBackup(t, tc.profiles, tc.env)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, p)
		})
	}
}

func TestRestoreSpecMountsTheSourceRepository(t *testing.T) {
	r := &backupRun{repoVol: "pgdockrig-x-backup1_pgbackrest"}
	spec := r.restoreSpec("PGBACKREST_RESTORE_TYPE=time")
	p, err := loadBackup(t, spec.Profiles, append(spec.Env, "PGDOCK_PASSWORD_FILE=/dev/null"))
	require.NoError(t, err)
	require.NoError(t, spec.Adjust(p))
	assert.Equal(t, []string{svcRestore}, p.ServiceNames(), "the restore service alone")
	repo := p.Volumes[volRepo]
	assert.True(t, bool(repo.External), "the source's repository is not created again nor removed")
	assert.Equal(t, r.repoVol, repo.Name)
	assert.NotContains(t, p.Volumes, volPGData)
	v, _ := envOf(p.Services[svcRestore], "PGBACKREST_RESTORE_TYPE")
	assert.Equal(t, "time", v)
}

// Shapes of pgBackRest 2.45's `info --output=json` (trimmed).
const infoTwo = `[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000007","min":"000000010000000000000001"}],` +
	`"backup":[{"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},"label":"20261203-184001F","prior":null,"reference":null,"timestamp":{"start":1796323201,"stop":1796323205},"type":"full"},` +
	`{"label":"20261203-184001F_20261203-184200I","prior":"20261203-184001F","reference":["20261203-184001F"],"timestamp":{"start":1796323320,"stop":1796323322},"type":"incr"}],` +
	`"cipher":"none","name":"rig","status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]`

func TestParseBackupInfo(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		labels  []string
		wantErr string
	}{
		{"two backups", infoTwo + "\n", []string{"20261203-184001F (full)", "20261203-184001F_20261203-184200I (incr)"}, ""},
		{"log lines around it", "2026-12-03T18:40:00Z [INFO] backup info\n" + infoTwo + "\ndone\n", []string{"20261203-184001F (full)", "20261203-184001F_20261203-184200I (incr)"}, ""},
		{"stanza without backups", `[{"backup":[],"name":"rig","status":{"code":2,"message":"no valid backups"}}]`, []string{}, ""},
		{"pretty-printed", "[\n  {\n    \"name\": \"rig\",\n    \"backup\": [{\"label\": \"L\", \"type\": \"full\"}]\n  }\n]\n", []string{"L (full)"}, ""},
		{"text, not json", "stanza: rig\n    status: ok\n", nil, "no JSON array"},
		{"broken json", "[{\"name\": \n", nil, "backup info --format json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseBackupInfo(tc.out)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.labels, labelsOf(allBackups(s)))
		})
	}
	s, err := parseBackupInfo(infoTwo)
	require.NoError(t, err)
	fresh := newBackups(s, []string{"20261203-184001F"})
	require.Len(t, fresh, 1)
	assert.Equal(t, "incr", fresh[0].Type)
	assert.Equal(t, "20261203-184001F", fresh[0].Prior)
	assert.Empty(t, newBackups(s, []string{"20261203-184001F", "20261203-184001F_20261203-184200I"}))
}

func TestBackupJob(t *testing.T) {
	tests := []struct {
		name string
		ps   []string
		want string
	}{
		{"idle", []string{"pgdock-entrypoint postgres", "postgres: checkpointer", "pgbackrest --stanza=rig archive-push pg_wal/0001"}, ""},
		{"pgbackrest backup", []string{"pgdock-entrypoint postgres", "/usr/bin/pgbackrest --stanza=rig --type=incr backup"}, "/usr/bin/pgbackrest --stanza=rig --type=incr backup"},
		{"on-demand through the entrypoint", []string{"/usr/local/bin/pgdock-entrypoint backup --type full"}, "/usr/local/bin/pgdock-entrypoint backup --type full"},
		{"backup info is no backup", []string{"pgdock-entrypoint backup info --format json", "pgbackrest --output=json info"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, backupJob(tc.ps))
		})
	}
}

func TestSourceErrors(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 12, 3, 19, 30, s, 0, time.UTC) }
	noRepo := "2026-12-03 19:30:44.858 P00  ERROR: [103]: unable to find a valid repository:"
	ready := "[2026-12-03T19:30:54Z] [INFO] stanza ready plugin=pgbackrest stanza=pgdock"
	tests := []struct {
		name    string
		lines   []engine.LogLine
		wantErr string
	}{
		{"archive-push before the stanza exists", []engine.LogLine{{At: at(44), Text: noRepo}, {At: at(54), Text: ready}}, ""},
		{"archive-push failing after it", []engine.LogLine{{At: at(54), Text: ready}, {At: at(55), Text: noRepo}}, "1 error lines"},
		{"another error before it", []engine.LogLine{{At: at(40), Text: "2026-12-03 19:30:40 UTC [1] FATAL:  role x does not exist"}, {At: at(54), Text: ready}}, "FATAL"},
		{"no stanza", []engine.LogLine{{At: at(44), Text: noRepo}}, "never created"},
		{"clean", []engine.LogLine{{At: at(54), Text: ready}, {At: at(60), Text: "[INFO] jobs: job finished"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := sourceErrors(tc.lines)
			if tc.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestBackupErrorsIgnoreClientsGivingUp(t *testing.T) {
	lines := []engine.LogLine{
		{Text: "2026-12-03 19:43:14.249 UTC [1433] FATAL:  canceling authentication due to timeout"},
		{Text: "2026-12-03 19:37:01.365 UTC [268] FATAL:  connection to client lost"},
		{Text: "2026-12-03 19:37:02.000 P00  ERROR: [103]: unable to find a valid repository:"},
	}
	assert.Equal(t, []string{lines[2].Text}, backupErrors(lines, time.Time{}), "archive-push errors count without a stanza time")
}
