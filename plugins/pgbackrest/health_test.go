package pgbackrest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
)

const infoJSON = `[{"archive":[],"backup":[
 {"label":"20261203-184522F","type":"full","error":false,"timestamp":{"start":1796323522,"stop":1796323528}},
 {"label":"20261203-184522F_20261203-190000I","type":"incr","error":false,"timestamp":{"start":1796324400,"stop":1796324410}},
 {"label":"20261203-184522F_20261203-191000I","type":"incr","error":true,"timestamp":{"start":1796325000,"stop":1796325010}}],
 "cipher":"none","db":[],"name":"it","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],
 "status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}},
 {"name":"other","backup":[],"repo":[],"status":{"code":2,"message":"no valid backups"}}]`

func TestParseInfo(t *testing.T) {
	st, err := ParseInfo([]byte(infoJSON), "it")
	require.NoError(t, err)
	assert.True(t, st.Reachable)
	assert.Equal(t, 2, st.Backups, "the backup with an error does not count")
	assert.Equal(t, "20261203-184522F_20261203-190000I", st.LastLabel)
	assert.Equal(t, "incr", st.LastType)
	assert.Equal(t, time.Unix(1796324410, 0), st.LastStop)

	st, err = ParseInfo([]byte(`[{"name":"it","backup":[],"repo":[{"key":1,"status":{"code":99,"message":"other"}}],"status":{"code":99,"message":"other"}}]`), "it")
	require.NoError(t, err)
	assert.False(t, st.Reachable)

	st, err = ParseInfo([]byte(`[]`), "it")
	require.NoError(t, err)
	assert.Equal(t, "missing stanza", st.Status)
	_, err = ParseInfo([]byte(`ERROR`), "it")
	assert.Error(t, err)
}

func TestArchiverFailing(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		a    archiverState
		want bool
	}{
		{"never failed", archiverState{Archived: 5, LastArchived: t0}, false},
		{"failed, then archived", archiverState{Archived: 5, Failed: 3, LastArchived: t0, LastFailed: t0.Add(-time.Minute)}, false},
		{"failed after the last success", archiverState{Archived: 5, Failed: 3, LastArchived: t0, LastFailed: t0.Add(time.Second)}, true},
		{"never archived, failed", archiverState{Failed: 1, LastFailed: t0}, true},
	} {
		assert.Equal(t, tt.want, tt.a.Failing(), tt.name)
	}
}

func TestReport(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	c := mustLoad(t, map[string]string{"PGBACKREST_SCHEDULE_FULL": "0 * * * *"}) // hourly: at most 2h10m without a backup
	okInfo := infoState{At: now, Reachable: true, Backups: 1, LastLabel: "F", LastType: "full", LastStop: now.Add(-30 * time.Minute)}
	okArch := archiverState{At: now, Archived: 10, LastArchived: now}
	okStanza := stanzaState{OK: true, At: now}
	for _, tt := range []struct {
		name    string
		stanza  stanzaState
		info    infoState
		arch    archiverState
		jobs    map[string]sdk.JobResult
		healthy bool
		want    string
	}{
		{"all ok", okStanza, okInfo, okArch, nil, true, "last backup F (full) 30m0s ago"},
		{"archiving failing", okStanza, okInfo, archiverState{At: now, Failed: 2, LastFailedWAL: "000000010000000000000001", LastFailed: now}, nil, false, "WAL archiving is failing"},
		{"stanza failed", stanzaState{At: now, Err: "exit status 28"}, okInfo, okArch, nil, false, "stanza-create failed: exit status 28"},
		{"repository unreachable", okStanza, infoState{At: now, Err: "ERROR: [039]: HTTP request failed"}, okArch, nil, false, "repository unreachable: ERROR: [039]"},
		{"backup too old", okStanza, infoState{At: now, Reachable: true, LastLabel: "F", LastStop: now.Add(-3 * time.Hour)}, okArch, nil, false, "no successful backup for 3h0m0s"},
		{"job failed", okStanza, okInfo, okArch, map[string]sdk.JobResult{"full": {Name: "full", Started: now, Finished: now, ExitCode: 1, Error: "exit status 1"}}, false, "the last full backup failed"},
		{"job running", okStanza, okInfo, okArch, map[string]sdk.JobResult{"full": {Name: "full", Started: now, Running: true}}, true, "pgbackrest ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := report(c, sdk.RolePrimary, now.Add(-time.Hour), tt.stanza, tt.info, tt.arch, tt.jobs, now)
			assert.Equal(t, tt.healthy, h.Healthy, h.Message)
			assert.Contains(t, h.Message, tt.want)
		})
	}
	// no backup yet: judged from the start of the plugin
	h := report(c, sdk.RolePrimary, now.Add(-time.Hour), okStanza, infoState{At: now, Reachable: true}, okArch, nil, now)
	assert.True(t, h.Healthy, h.Message)
	h = report(c, sdk.RolePrimary, now.Add(-3*time.Hour), okStanza, infoState{At: now, Reachable: true}, okArch, nil, now)
	assert.False(t, h.Healthy, h.Message)
	// a replica does not judge archiving
	h = report(c, sdk.RoleReplica, now, okStanza, okInfo, archiverState{At: now, Failed: 2, LastFailed: now}, nil, now)
	assert.True(t, h.Healthy, h.Message)
}

func TestBackupInterval(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 30, 0, time.UTC)
	_, ok := backupInterval(Config{}, now)
	assert.False(t, ok)
	d, ok := backupInterval(Config{Schedules: map[string]string{"full": "@daily", "incr": "*/15 * * * *"}}, now)
	assert.True(t, ok)
	assert.Equal(t, 40*time.Minute, d)
}
