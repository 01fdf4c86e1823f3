package bench

import (
	"math"
	"slices"
)

// Summary describes repeated samples of one quantity.
type Summary struct {
	N       int       `json:"n"`
	Samples []float64 `json:"samples"`
	Median  float64   `json:"median"`
	P95     float64   `json:"p95"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
}

// Summarize computes the summary of samples (kept in measurement order).
// An empty input gives a zero Summary with N == 0.
func Summarize(samples []float64) Summary {
	s := Summary{N: len(samples), Samples: append([]float64(nil), samples...)}
	if len(samples) == 0 {
		return s
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	s.Median = percentileSorted(sorted, 50)
	s.P95 = percentileSorted(sorted, 95)
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	return s
}

// Median is the 50th percentile of samples; NaN when there are none.
func Median(samples []float64) float64 { return Percentile(samples, 50) }

// Percentile returns the p-th percentile (0..100) of samples by linear
// interpolation between closest ranks (the "R-7"/spreadsheet definition):
// the median of an even count is the mean of the middle two. NaN when there
// are no samples; p is clamped to [0, 100].
func Percentile(samples []float64, p float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return percentileSorted(sorted, p)
}

func percentileSorted(sorted []float64, p float64) float64 {
	p = math.Max(0, math.Min(100, p))
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}
