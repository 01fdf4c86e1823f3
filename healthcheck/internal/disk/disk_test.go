package disk

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const GiB = 1 << 30

func TestEvaluate(t *testing.T) {
	def := DefaultThresholds()
	tests := []struct {
		name        string
		free, total uint64
		t           Thresholds
		healthy     bool
		reason      string
	}{
		// The old container read df's Use% as free%: a nearly empty disk
		// failed and a full one passed. These two rows pin the fix.
		{name: "nearly empty disk is healthy", free: 95 * GiB, total: 100 * GiB, t: def, healthy: true},
		{name: "nearly full disk fails", free: 5 * GiB, total: 100 * GiB, t: def, reason: "below 10%"},
		{name: "exactly 10% free is healthy", free: 10 * GiB, total: 100 * GiB, t: def, healthy: true},
		{name: "just under 10% fails", free: 10*GiB - 1, total: 100 * GiB, t: def, reason: "below 10%"},
		{name: "small volume: plenty of percent, under 100 MiB fails", free: 90 * MiB, total: 200 * MiB, t: def, reason: "below 100 MiB"},
		{name: "exactly 100 MiB and 50% is healthy", free: 100 * MiB, total: 200 * MiB, t: def, healthy: true},
		{name: "huge volume: 5% is 500 GiB but fails the percent floor", free: 500 * GiB, total: 10000 * GiB, t: def, reason: "below 10%"},
		{name: "huge volume with the percent floor off", free: 500 * GiB, total: 10000 * GiB, t: Thresholds{MinFreeBytes: 100 * MiB}, healthy: true},
		{name: "both floors off", free: 0, total: 100 * GiB, t: Thresholds{}, healthy: true},
		{name: "full disk", free: 0, total: 100 * GiB, t: def, reason: "below 100 MiB"},
		{name: "zero size: only the byte floor applies", free: 0, total: 0, t: def, reason: "below 100 MiB"},
		{name: "zero size, byte floor off", free: 0, total: 0, t: Thresholds{MinFreePercent: 10}, healthy: true},
		{name: "custom floors", free: 30 * GiB, total: 100 * GiB, t: Thresholds{MinFreePercent: 25, MinFreeBytes: 50 * GiB}, reason: "below 50 GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(tc.free, tc.total, tc.t)
			assert.Equal(t, tc.healthy, v.Healthy)
			assert.Equal(t, tc.reason, v.Reason)
			assert.Equal(t, tc.free, v.Free)
			assert.Equal(t, tc.total, v.Total)
		})
	}
}

func TestVerdictString(t *testing.T) {
	assert.Equal(t, "5 GiB free of 100 GiB (5.0%), below 10%", Evaluate(5*GiB, 100*GiB, DefaultThresholds()).String())
	assert.Equal(t, "1.5 GiB free of 2 GiB (75.0%)", Evaluate(GiB+GiB/2, 2*GiB, DefaultThresholds()).String())
}

func TestThresholdsValidate(t *testing.T) {
	for _, ok := range []float64{0, 10, 100, 0.5} {
		assert.NoError(t, Thresholds{MinFreePercent: ok}.Validate(), ok)
	}
	for _, bad := range []float64{-1, 100.1, math.NaN()} {
		assert.Error(t, Thresholds{MinFreePercent: bad}.Validate(), bad)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := map[uint64]string{
		0:               "0 B",
		1023:            "1023 B",
		1024:            "1 KiB",
		1536:            "1.5 KiB",
		100 * MiB:       "100 MiB",
		GiB + GiB/10:    "1.1 GiB",
		math.MaxUint64:  "16 EiB",
		3 * 1024 * GiB:  "3 TiB",
		1024 * 1024 * 5: "5 MiB",
	}
	for n, want := range tests {
		assert.Equal(t, want, FormatBytes(n), n)
	}
}

func TestUsageRealStatfs(t *testing.T) {
	dir := t.TempDir()
	free, total, err := Usage(dir)
	require.NoError(t, err)
	assert.Positive(t, total)
	assert.LessOrEqual(t, free, total)

	_, _, err = Usage(filepath.Join(dir, "missing"))
	assert.ErrorContains(t, err, "statfs")
}

func TestSameFilesystem(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))
	same, err := SameFilesystem(dir, sub)
	require.NoError(t, err)
	assert.True(t, same)

	if _, err := os.Stat("/proc/self"); err == nil {
		same, err = SameFilesystem(dir, "/proc/self")
		require.NoError(t, err)
		assert.False(t, same, "procfs is another filesystem")
	}
	_, err = SameFilesystem(dir, filepath.Join(dir, "missing"))
	assert.Error(t, err)
	_, err = SameFilesystem(filepath.Join(dir, "missing"), dir)
	assert.Error(t, err)
}
