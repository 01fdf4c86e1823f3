package pgbackrest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest/pgserver"
)

func TestMain(m *testing.M) { os.Exit(pgserver.Run(m)) }

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
		name     string
		stanza   stanzaState
		info     infoState
		arch     archiverState
		jobs     map[string]sdk.JobResult
		degraded bool
		want     string
	}{
		{"all ok", okStanza, okInfo, okArch, nil, false, "last backup F (full) 30m0s ago"},
		{"archiving failing", okStanza, okInfo, archiverState{At: now, Failed: 2, LastFailedWAL: "000000010000000000000001", LastFailed: now}, nil, true, "WAL archiving is failing"},
		{"stanza failed", stanzaState{At: now, Err: "exit status 28"}, okInfo, okArch, nil, true, "stanza-create failed: exit status 28"},
		{"repository unreachable", okStanza, infoState{At: now, Err: "ERROR: [039]: HTTP request failed"}, okArch, nil, true, "repository unreachable: ERROR: [039]"},
		{"backup too old", okStanza, infoState{At: now, Reachable: true, LastLabel: "F", LastStop: now.Add(-3 * time.Hour)}, okArch, nil, true, "no successful backup for 3h0m0s"},
		{"job failed", okStanza, okInfo, okArch, map[string]sdk.JobResult{"full": {Name: "full", Started: now, Finished: now, ExitCode: 1, Error: "exit status 1"}}, true, "the last full backup failed"},
		{"job running", okStanza, okInfo, okArch, map[string]sdk.JobResult{"full": {Name: "full", Started: now, Running: true}}, false, "pgbackrest ok"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := report(c, sdk.RolePrimary, now.Add(-time.Hour), tt.stanza, tt.info, tt.arch, tt.jobs, now)
			assert.True(t, h.Healthy, "a backup problem never makes the node unready: %s", h.Message)
			assert.Equal(t, tt.degraded, h.Degraded, h.Message)
			assert.Contains(t, h.Message, tt.want)
		})
	}
	// no backup yet: judged from the start of the plugin
	h := report(c, sdk.RolePrimary, now.Add(-time.Hour), okStanza, infoState{At: now, Reachable: true}, okArch, nil, now)
	assert.True(t, h.Healthy, h.Message)
	assert.False(t, h.Degraded, h.Message)
	h = report(c, sdk.RolePrimary, now.Add(-3*time.Hour), okStanza, infoState{At: now, Reachable: true}, okArch, nil, now)
	assert.True(t, h.Degraded, h.Message)
	// a replica does not judge archiving
	h = report(c, sdk.RoleReplica, now, okStanza, okInfo, archiverState{At: now, Failed: 2, LastFailed: now}, nil, now)
	assert.True(t, h.Healthy, h.Message)
	assert.False(t, h.Degraded, h.Message)
}

func TestBackupInterval(t *testing.T) {
	now := time.Date(2026, 12, 3, 18, 0, 30, 0, time.UTC)
	_, ok := backupInterval(Config{}, now)
	assert.False(t, ok)
	d, ok := backupInterval(Config{Schedules: map[string]string{"full": "@daily", "incr": "*/15 * * * *"}}, now)
	assert.True(t, ok)
	assert.Equal(t, 40*time.Minute, d)
}

func TestParseArchiver(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name    string
		row     []*string
		want    archiverState
		wantErr string
	}{
		{"never archived", []*string{str("0"), str("0"), nil, nil, nil, nil}, archiverState{}, ""},
		{"archived and failed", []*string{str("7"), str("2"), str("000000010000000000000007"), str("000000010000000000000003"),
			str("1796323522123456"), str("1796323000000001")},
			archiverState{Archived: 7, Failed: 2, LastArchivedWAL: "000000010000000000000007", LastFailedWAL: "000000010000000000000003",
				LastArchived: time.UnixMicro(1796323522123456), LastFailed: time.UnixMicro(1796323000000001)}, ""},
		{"short row", []*string{str("0")}, archiverState{}, "unexpected row"},
		{"bad count", []*string{str("x"), str("0"), nil, nil, nil, nil}, archiverState{}, "archived_count"},
		{"bad time", []*string{str("0"), str("0"), nil, nil, str("2026-12-03"), nil}, archiverState{}, "last_archived_time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st archiverState
			err := parseArchiver(tt.row, &st)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, st)
		})
	}
}

// queryArchiver against a real server whose archive_command fails, then
// succeeds: the counts, the WAL names and the times (to the microsecond,
// as the server has them), and the health probe's one-second reuse.
func TestArchiverOnRealServer(t *testing.T) {
	s := pgserver.New(t, pgserver.Find(t), pgserver.FreePort(t))
	// archiving fails until the file ok exists
	archive := filepath.Join(s.Dir, "archive.sh")
	require.NoError(t, os.WriteFile(archive, []byte("#!/bin/sh\ntest -f "+filepath.Join(s.Dir, "ok")+"\n"), 0o755))
	s.Start("archive_mode=on", "archive_command="+archive, "wal_level=replica")
	ctx := context.Background()
	serverTime := func(col string) time.Time {
		conn := s.Connect("postgres")
		defer conn.Close(ctx)
		var tm time.Time
		require.NoError(t, conn.QueryRow(ctx, "SELECT "+col+" FROM pg_stat_archiver").Scan(&tm))
		return tm
	}
	// sameAsServer compares a time queryArchiver read with the server's own
	// value read just after; the archiver keeps working meanwhile (retries,
	// the next segment), so a pair straddling a change is read again.
	sameAsServer := func(get func(archiverState) time.Time, col string) bool {
		for range 20 {
			before := get(queryArchiver(ctx, s.Conn()))
			server := serverTime(col)
			if before.Equal(server) {
				return true
			}
			if get(queryArchiver(ctx, s.Conn())).Equal(server) {
				continue // it moved between the two reads: try again
			}
			return false
		}
		return false
	}
	wait := func(what string, ok func(archiverState) bool) archiverState {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			st := queryArchiver(ctx, s.Conn())
			require.Empty(t, st.Err)
			if ok(st) {
				return st
			}
			require.True(t, time.Now().Before(deadline), "timed out waiting for %s: %+v", what, st)
			time.Sleep(100 * time.Millisecond)
		}
	}

	st := queryArchiver(ctx, s.Conn())
	require.Empty(t, st.Err)
	assert.Equal(t, int64(0), st.Archived)
	assert.True(t, st.LastArchived.IsZero(), "NULL: never")

	s.Exec("CREATE TABLE x AS SELECT 1 AS a; SELECT pg_switch_wal()")
	st = wait("a failure", func(a archiverState) bool { return a.Failed > 0 })
	assert.True(t, st.Failing())
	assert.Len(t, st.LastFailedWAL, 24)
	assert.True(t, sameAsServer(func(a archiverState) time.Time { return a.LastFailed }, "last_failed_time"), "%v", st.LastFailed)
	assert.WithinDuration(t, time.Now(), st.LastFailed, time.Minute)

	require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "ok"), nil, 0o644))
	s.Exec("INSERT INTO x VALUES (2); SELECT pg_switch_wal()") // wakes the archiver, which may be waiting after three failures
	st = wait("an archived segment", func(a archiverState) bool { return a.Archived > 0 })
	assert.False(t, st.Failing())
	assert.Len(t, st.LastArchivedWAL, 24)
	assert.True(t, sameAsServer(func(a archiverState) time.Time { return a.LastArchived }, "last_archived_time"), "%v", st.LastArchived)

	// The health probe reads pg_stat_archiver at most once a second.
	p := newTestPlugin()
	c := mustLoad(t, map[string]string{})
	conn := s.Conn()
	p.cfg, p.conn, p.role = &c, &conn, sdk.RolePrimary
	h, err := p.HealthWithJobs(ctx, sdk.HealthRequest{})
	require.NoError(t, err)
	assert.NotEmpty(t, h.Details["archived_count"])
	first := p.arch.At
	_, err = p.HealthWithJobs(ctx, sdk.HealthRequest{})
	require.NoError(t, err)
	assert.Equal(t, first, p.arch.At, "a second probe within archiverFresh reuses the reading")
	time.Sleep(archiverFresh)
	_, err = p.HealthWithJobs(ctx, sdk.HealthRequest{})
	require.NoError(t, err)
	assert.True(t, p.arch.At.After(first), "read again after archiverFresh")
}
