package check

import (
	"encoding/json"
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
