package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/result"
)

func sampleRun() result.Run {
	acct := budget.NewAccount(budget.GoalHealthy, budget.GoalStop)
	acct.Add(budget.MetricHealthy, 3200*time.Millisecond)
	acct.Add(budget.MetricStop, 2600*time.Millisecond)
	mon := budget.NewAccount(budget.PlanStartup)
	start := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	return result.Run{
		ID: "abcd1234", Started: start, Images: []string{"pgdock/postgres:15 (8f5cb0473a33, 538 MB)"}, Took: 42 * time.Second, Engine: "Docker Engine 20.10.24 (API 1.41)",
		Scenarios: []result.Scenario{
			{
				Name: "direct", Description: "the direct stack", Started: start, Took: 12 * time.Second,
				Checks: []result.Check{
					{Name: "first boot reaches healthy", Status: result.Pass, Took: 3 * time.Second},
					{Name: "docker stop exits 0", Status: result.Fail, Message: "exit code 137 | killed\nsecond line"},
				},
				Budgets: acct.Checks(), Measurements: acct.Measurements(),
				Timeline: result.Timeline{
					Spans: []result.Span{
						{Lane: "first boot", Name: "create", Start: 0, End: 200 * time.Millisecond},
						{Lane: "first boot", Name: "start → ready", Start: 200 * time.Millisecond, End: 2 * time.Second},
						{Lane: "first boot", Name: "docker stop", Start: 4 * time.Second, End: 6600 * time.Millisecond},
					},
					Marks: []result.Mark{{Lane: "first boot", Name: "healthy <now>", At: 3200 * time.Millisecond}},
				},
			},
			{
				Name: "monitoring", Started: start.Add(12 * time.Second), Took: 30 * time.Second,
				Checks: []result.Check{
					{Name: "prometheus: pg_up == 1", Status: result.Pass},
					{Name: "grafana", Status: result.Skip, Message: "no Grafana image on this Engine"},
				},
				Budgets: mon.Checks(),
			},
		},
	}
}

func TestWriteJUnit(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, sampleRun()))
	var got junitSuites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &got), buf.String())

	// direct: 2 checks + 2 budgets (healthy met, stop missed); monitoring: 2 checks + 1 budget not measured.
	assert.Equal(t, 7, got.Tests)
	assert.Equal(t, 2, got.Failures, "the failed check and the missed stop budget")
	assert.Equal(t, 2, got.Skipped, "the Grafana skip and the unmeasured budget")
	require.Len(t, got.Suites, 2)
	cases := map[string]junitCase{}
	for _, s := range got.Suites {
		for _, c := range s.Cases {
			cases[s.Name+"/"+c.Name] = c
		}
	}
	g := cases["testrig/monitoring/grafana"]
	require.NotNil(t, g.Skipped, "a skip is reported as <skipped>, never as a pass")
	assert.Equal(t, "no Grafana image on this Engine", g.Skipped.Message)
	assert.Nil(t, g.Failure)
	stop := cases["testrig/direct/budget/stop ≤ 2s (pgdock)"]
	require.NotNil(t, stop.Failure)
	assert.Contains(t, stop.Failure.Message, "stop took 2.60s")
	f := cases["testrig/direct/docker stop exits 0"]
	require.NotNil(t, f.Failure)
	assert.Equal(t, "exit code 137 | killed", f.Failure.Message, "message is the first line")
	assert.Contains(t, f.Failure.Text, "second line")
	assert.Nil(t, cases["testrig/direct/first boot reaches healthy"].Failure)
	assert.Equal(t, "3.000", cases["testrig/direct/first boot reaches healthy"].Time)
}

func TestWriteSVG(t *testing.T) {
	r := sampleRun()
	var buf bytes.Buffer
	require.NoError(t, WriteSVG(&buf, r.Scenarios[0]))
	// Well-formed XML, names escaped.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	var rects, titles int
	for {
		tok, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rect":
				rects++
			case "title":
				titles++
			}
		}
	}
	assert.GreaterOrEqual(t, rects, 3+1, "background plus one bar per span")
	assert.Equal(t, 4, titles, "a tooltip per span and per mark")
	s := buf.String()
	assert.Contains(t, s, "start → ready: 1.80s")
	assert.Contains(t, s, "healthy &lt;now&gt;")
	assert.Contains(t, s, ">first boot<")
	// the axis covers the last event (6.6 s) with round ticks
	assert.Contains(t, s, ">7s<")

	buf.Reset()
	require.NoError(t, WriteSVG(&buf, result.Scenario{Name: "empty"}), "a scenario that failed before any event still gets a picture")
}

func TestTickStep(t *testing.T) {
	for _, tc := range []struct{ end, want time.Duration }{
		{80 * time.Millisecond, 10 * time.Millisecond},
		{6600 * time.Millisecond, time.Second},
		{25 * time.Second, 5 * time.Second},
		{3 * time.Minute, 30 * time.Second},
	} {
		assert.Equal(t, tc.want, tickStep(tc.end), "end %s", tc.end)
	}
}

func TestMarkdownAndFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out", "report.md")
	require.NoError(t, WriteFiles(path, sampleRun()))
	md, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(md)
	assert.Contains(t, s, "![direct timeline](report-direct.svg)")
	assert.Contains(t, s, "Images: pgdock/postgres:15 (8f5cb0473a33, 538 MB).")
	assert.Contains(t, s, "| direct | FAIL | 1 pass, 1 fail, 0 skip | healthy | ≤ 5s (pgdock) | 3.20s | met |")
	assert.Contains(t, s, "| stop | ≤ 2s (pgdock) | 2.60s | MISSED |")
	assert.Contains(t, s, "skipped: grafana — no Grafana image on this Engine")
	assert.Contains(t, s, `exit code 137 \| killed second line`, "table cells are escaped")
	assert.Contains(t, s, "| healthy | < 30s (plan) | — | 0 | not measured |")
	assert.Contains(t, s, "| first boot | start → ready | 200ms | 1.80s |", "the timeline also as a table")
	for _, f := range []string{"report-direct.svg", "report-monitoring.svg"} {
		_, err := os.Stat(filepath.Join(dir, "out", f))
		assert.NoError(t, err, f)
	}
}

func TestSummaryPlain(t *testing.T) {
	s := Summary(sampleRun(), false)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	assert.True(t, strings.HasPrefix(lines[0], "scenario"))
	assert.Contains(t, s, "MISSED")
	assert.Contains(t, s, "monitoring  pass")
	assert.Contains(t, s, "skipped: grafana")
	// columns line up: "metric" starts at the same column in the header and the first data row
	assert.Equal(t, strings.Index(lines[0], "metric"), strings.Index(lines[1], "healthy"))
}
