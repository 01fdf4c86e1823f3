package bench

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		name    string
		samples []float64
		p       float64
		want    float64
	}{
		{"single", []float64{7}, 95, 7},
		{"odd median", []float64{5, 1, 3}, 50, 3},
		{"even median is mean of middle two", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p95 interpolates", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}, 95, 20},
		{"p95 between ranks", []float64{10, 20, 30, 40}, 95, 38.5},
		{"p0 is min", []float64{3, 1, 2}, 0, 1},
		{"p100 is max", []float64{3, 1, 2}, 100, 3},
		{"clamped above", []float64{3, 1, 2}, 250, 3},
		{"clamped below", []float64{3, 1, 2}, -5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.samples, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("Percentile(%v, %v) = %v, want %v", tt.samples, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileEmptyIsNaN(t *testing.T) {
	if got := Median(nil); !math.IsNaN(got) {
		t.Fatalf("Median(nil) = %v, want NaN", got)
	}
}

func TestSummarizeKeepsOrderAndDoesNotSortInput(t *testing.T) {
	in := []float64{30, 10, 20, 40}
	s := Summarize(in)
	if s.N != 4 || s.Median != 25 || s.Min != 10 || s.Max != 40 {
		t.Fatalf("Summarize(%v) = %+v", in, s)
	}
	if in[0] != 30 || s.Samples[0] != 30 {
		t.Fatalf("input or samples reordered: in=%v samples=%v", in, s.Samples)
	}
	if math.Abs(s.P95-38.5) > 1e-9 {
		t.Fatalf("p95 = %v, want 38.5", s.P95)
	}
	if z := Summarize(nil); z.N != 0 || z.Median != 0 {
		t.Fatalf("Summarize(nil) = %+v, want zero", z)
	}
}
