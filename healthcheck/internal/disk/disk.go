package disk

import (
	"fmt"
	"syscall"
)

// MiB is the unit of the megabyte threshold (like df -m).
const MiB = 1 << 20

// Thresholds are the floors below which free space is unhealthy. Either
// floor alone fails the check; a zero floor is disabled.
type Thresholds struct {
	// MinFreePercent of the filesystem's usable size, 0–100. Default 10.
	MinFreePercent float64
	// MinFreeBytes of space. Default 100 MiB.
	MinFreeBytes uint64
}

// DefaultThresholds are the old container's figures: 10 % and 100 MB.
func DefaultThresholds() Thresholds {
	return Thresholds{MinFreePercent: 10, MinFreeBytes: 100 * MiB}
}

// Validate checks the ranges.
func (t Thresholds) Validate() error {
	if t.MinFreePercent < 0 || t.MinFreePercent > 100 || t.MinFreePercent != t.MinFreePercent {
		return fmt.Errorf("minimum free percent %v: want 0 to 100", t.MinFreePercent)
	}
	return nil
}

// Verdict is the judgement of one filesystem.
type Verdict struct {
	Healthy     bool
	Free, Total uint64
	FreePercent float64
	// Reason names the floor that failed; empty when healthy.
	Reason string
}

// Evaluate judges free of total bytes: unhealthy when free space is below
// MinFreePercent of total or below MinFreeBytes. With total 0 (a filesystem
// that reports no size) only the byte floor applies.
func Evaluate(free, total uint64, t Thresholds) Verdict {
	v := Verdict{Healthy: true, Free: free, Total: total}
	if total > 0 {
		v.FreePercent = float64(free) / float64(total) * 100
	}
	switch {
	case t.MinFreeBytes > 0 && free < t.MinFreeBytes:
		v.Healthy = false
		v.Reason = fmt.Sprintf("below %s", FormatBytes(t.MinFreeBytes))
	case t.MinFreePercent > 0 && total > 0 && v.FreePercent < t.MinFreePercent:
		v.Healthy = false
		v.Reason = fmt.Sprintf("below %g%%", t.MinFreePercent)
	}
	return v
}

// String describes the verdict, e.g. "1.2 GiB free of 9.8 GiB (12.3%)".
func (v Verdict) String() string {
	s := fmt.Sprintf("%s free of %s (%.1f%%)", FormatBytes(v.Free), FormatBytes(v.Total), v.FreePercent)
	if v.Reason != "" {
		s += ", " + v.Reason
	}
	return s
}

// Usage returns the bytes available to unprivileged users and the usable
// size (used + available, as df counts it) of the filesystem holding path.
func Usage(path string) (free, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	bsize := uint64(st.Bsize)
	used := (st.Blocks - st.Bfree) * bsize
	free = st.Bavail * bsize
	return free, used + free, nil
}

// FormatBytes prints n with a binary unit: 512 B, 100 MiB, 1.5 GiB.
func FormatBytes(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}

// SameFilesystem reports whether a and b (symlinks followed) live on the
// same filesystem.
func SameFilesystem(a, b string) (bool, error) {
	var sa, sb syscall.Stat_t
	if err := syscall.Stat(a, &sa); err != nil {
		return false, fmt.Errorf("stat %s: %w", a, err)
	}
	if err := syscall.Stat(b, &sb); err != nil {
		return false, fmt.Errorf("stat %s: %w", b, err)
	}
	return sa.Dev == sb.Dev, nil
}
