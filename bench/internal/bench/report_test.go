package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

func sideOf(samples ...float64) *Side { return &Side{Summary: Summarize(samples)} }

func TestFinishJudgesGoals(t *testing.T) {
	tests := []struct {
		name    string
		m       Measure
		wantMet *bool
		wantAbs float64
		wantPct float64
	}{
		{"pct within", Measure{Pgdock: sideOf(104), Reference: sideOf(100), Goal: &Goal{Basis: BasisDiffPct, Limit: 5}}, ptr(true), 4, 4},
		{"pct over", Measure{Pgdock: sideOf(106), Reference: sideOf(100), Goal: &Goal{Basis: BasisDiffPct, Limit: 5}}, ptr(false), 6, 6},
		{"abs: faster meets", Measure{Pgdock: sideOf(60), Reference: sideOf(120), Goal: &Goal{Basis: BasisDiffAbs, Limit: 50}}, ptr(true), -60, -50},
		{"abs zero limit, equal meets", Measure{Pgdock: sideOf(7), Reference: sideOf(7), Goal: &Goal{Basis: BasisDiffAbs, Limit: 0}}, ptr(true), 0, 0},
		{"max over", Measure{Pgdock: sideOf(14, 14.5, 15.5), Goal: &Goal{Basis: BasisPgdockMax, Limit: 15}}, ptr(false), math.NaN(), math.NaN()},
		{"median within", Measure{Pgdock: sideOf(3, 200, 4), Goal: &Goal{Basis: BasisPgdockMed, Limit: 100}}, ptr(true), math.NaN(), math.NaN()},
		{"no goal", Measure{Pgdock: sideOf(1), Reference: sideOf(2)}, nil, -1, -50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.Status = StatusMeasured
			m.finish(DiffShownAbs)
			if (m.Met == nil) != (tt.wantMet == nil) || (m.Met != nil && *m.Met != *tt.wantMet) {
				t.Fatalf("met = %v, want %v", deref(m.Met), deref(tt.wantMet))
			}
			if math.IsNaN(tt.wantAbs) {
				if m.Difference != nil {
					t.Fatalf("difference without reference: %+v", m.Difference)
				}
				return
			}
			if m.Difference == nil || math.Abs(m.Difference.Abs-tt.wantAbs) > 1e-9 || math.Abs(m.Difference.Pct-tt.wantPct) > 1e-9 {
				t.Fatalf("difference = %+v, want abs %v pct %v", m.Difference, tt.wantAbs, tt.wantPct)
			}
		})
	}
}

func TestFinishLeavesUnmeasuredUnjudged(t *testing.T) {
	m := Measure{Status: StatusNotMeasured, Goal: &Goal{Basis: BasisPgdockMax, Limit: 15}}
	m.finish(DiffShownAbs)
	if m.Met != nil {
		t.Fatalf("met = %v for a measure without numbers", *m.Met)
	}
	row := tableRow(m)
	if row[1] != StatusNotMeasured || row[5] != metNotMeasured {
		t.Fatalf("row = %q", row)
	}
}

func TestTableRowFormatsLatencyAndPercent(t *testing.T) {
	m := Measure{Name: "first boot", Unit: unitMs, Status: StatusMeasured, ShowP95: true,
		Pgdock: sideOf(2000, 2100, 2050), Reference: sideOf(2000, 2000, 2000),
		Goal: &Goal{Text: "<= +5 %", Basis: BasisDiffPct, Limit: 5}}
	m.finish(DiffShownPercent)
	got := strings.Join(tableRow(m), " | ")
	want := "first boot | 2050 ms (p95 2095) | 2000 ms (p95 2000) | +2.50 % (+50.0 ms) | <= +5 % | yes"
	if got != want {
		t.Fatalf("row:\n%s\nwant:\n%s", got, want)
	}
}

func TestTookField(t *testing.T) {
	d, ok := tookField("[2026-11-26T12:39:53Z] [INFO] plugin started plugin=example pid=7808 took=14.493446ms crash_policy=fail")
	if !ok || d != 14493446*time.Nanosecond {
		t.Fatalf("tookField = %v, %v", d, ok)
	}
	if _, ok := tookField("no duration here"); ok {
		t.Fatal("tookField found a duration in a line without one")
	}
}

func TestLastTPS(t *testing.T) {
	out := "tps = 100.5 (without initial connection time)\n...\ntps = 23662.953156 (without initial connection time)\npgbench: error: Run was aborted"
	if v, ok := lastTPS(out); !ok || v != 23662.953156 {
		t.Fatalf("lastTPS = %v, %v", v, ok)
	}
	if _, ok := lastTPS("nothing"); ok {
		t.Fatal("lastTPS found a rate in output without one")
	}
}

func ptr(b bool) *bool { return &b }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestMemoryGoalIsInDecimalMegabytes(t *testing.T) {
	g := memoryGoal(15)
	if g.Text != "<= 15 MB" || math.Abs(g.Limit-14.305) > 0.001 {
		t.Fatalf("memoryGoal(15) = %q, limit %.4f MiB; want <= 15 MB, 14.305 MiB", g.Text, g.Limit)
	}
}
