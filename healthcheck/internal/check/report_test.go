package check

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseNameAndDescribe(t *testing.T) {
	for _, n := range Names() {
		got, err := ParseName(string(n))
		require.NoError(t, err)
		assert.Equal(t, n, got)
		assert.NotEmpty(t, n.Describe(), n)
	}
	_, err := ParseName("Readiness")
	assert.EqualError(t, err, `unknown check "Readiness" (want one of liveness, readiness, startup, postgresql, patroni, leader, replica, disk, process, comprehensive)`)
	assert.Empty(t, Name("bogus").Describe())
}

func TestReportText(t *testing.T) {
	ok := Report{Check: Readiness, Healthy: true, Message: "accepting connections (socket /x, port 5432)", Duration: 1234 * time.Microsecond}
	assert.Equal(t, "OK readiness: accepting connections (socket /x, port 5432) 1.2ms", ok.Text())
	assert.Equal(t, 0, ok.ExitCode())

	fail := Report{Check: Readiness, Message: "bootstrapping (temporary server)", Duration: time.Millisecond}
	assert.Equal(t, "FAIL readiness: bootstrapping (temporary server)", fail.Text())
	assert.Equal(t, 1, fail.ExitCode())

	multi := Report{Check: Patroni, Message: "REST answered 503 {\n  \"state\": \"stopped\"\r\n}"}
	assert.Equal(t, `FAIL patroni: REST answered 503 { "state": "stopped" }`, multi.Text(), "always one line")
}

func TestReportJSON(t *testing.T) {
	rep := Report{
		Check: Readiness, Healthy: true, Message: "accepting connections", Duration: 1500 * time.Microsecond,
		Checks: []Result{{Check: "postgresql", Healthy: true, Message: "accepting connections", Details: map[string]string{"network": "unix"}}},
	}
	line := rep.JSON()
	assert.False(t, strings.ContainsAny(line, "\n"))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(line), &got))
	assert.Equal(t, map[string]any{
		"check": "readiness", "healthy": true, "message": "accepting connections", "duration_ms": 1.5,
		"checks": []any{map[string]any{"check": "postgresql", "healthy": true, "message": "accepting connections", "details": map[string]any{"network": "unix"}}},
	}, got)

	line = Report{Check: "pgdock-healthcheck", Message: "bad flag"}.JSON()
	assert.JSONEq(t, `{"check":"pgdock-healthcheck","healthy":false,"message":"bad flag","checks":[],"duration_ms":0}`, line, "checks is always an array")
}

func TestDegradedReports(t *testing.T) {
	pg := Result{Check: "postgresql", Healthy: true, Message: "accepting connections"}
	stale := Result{Check: "plugin:pgbackrest", Healthy: true, Degraded: true, Message: "the last full backup is 30h old (schedule: daily)"}
	down := Result{Check: "plugin:citus", Message: "not registered"}
	tests := []struct {
		name         string
		comps        []Result
		strict       bool
		healthy      bool
		degraded     bool
		text, exit   string
		jsonDegraded any
	}{
		{"healthy", []Result{pg}, false, true, false, "OK readiness: ok 2.0ms", "0", nil},
		{"degraded passes", []Result{pg, stale}, false, true, true,
			"DEGRADED readiness: ok; degraded: plugin:pgbackrest: the last full backup is 30h old (schedule: daily) 2.0ms", "0", true},
		{"degraded fails with --strict", []Result{pg, stale}, true, false, true,
			"FAIL readiness: degraded (--strict): ok; degraded: plugin:pgbackrest: the last full backup is 30h old (schedule: daily)", "1", true},
		{"a failure hides degraded", []Result{pg, stale, down}, false, false, false, "FAIL readiness: plugin:citus: not registered", "1", nil},
		{"strict leaves healthy alone", []Result{pg}, true, true, false, "OK readiness: ok 2.0ms", "0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := summarize(Readiness, tt.comps, "ok", "postgresql")
			if tt.strict {
				rep = rep.Strict()
			}
			rep.Duration = 2 * time.Millisecond
			assert.Equal(t, tt.healthy, rep.Healthy)
			assert.Equal(t, tt.degraded, rep.Degraded)
			assert.Equal(t, tt.text, rep.Text())
			assert.Equal(t, tt.exit, strconv.Itoa(rep.ExitCode()))
			var got map[string]any
			require.NoError(t, json.Unmarshal([]byte(rep.JSON()), &got))
			assert.Equal(t, tt.jsonDegraded, got["degraded"])
		})
	}
}

func TestSummarize(t *testing.T) {
	comps := []Result{
		{Check: "postgresql", Message: "stopping"},
		{Check: "disk", Healthy: true, Message: "fine"},
		{Check: "process", Message: "gone"},
	}
	assert.Equal(t, "stopping; process: gone", summarize(Readiness, comps, "", "postgresql").Message)
	assert.Equal(t, "postgresql: stopping; process: gone", summarize(Comprehensive, comps, "", "").Message)
	rep := summarize(Disk, comps[1:2], "all fine", "disk")
	assert.True(t, rep.Healthy)
	assert.Equal(t, "all fine", rep.Message)
}
