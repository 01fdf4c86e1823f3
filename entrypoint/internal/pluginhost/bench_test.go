package pluginhost

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssKB reads VmRSS of a process from /proc.
func rssKB(pid int) (int, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb, err == nil
		}
	}
	return 0, false
}

// BenchmarkStartStop measures starting one plugin (process start,
// handshake, connection, Describe) and stopping it, and reports the
// handshake time and the idle plugin's RSS (goal: at most 15 MB).
func BenchmarkStartStop(b *testing.B) {
	f := newFixture(b, nil)
	var handshakeNs, rss float64
	for b.Loop() {
		m, err := Start(b.Context(), f.opts)
		if err != nil {
			b.Fatal(err)
		}
		d := m.Descriptions()[0]
		handshakeNs += float64(d.StartDuration.Nanoseconds())
		if kb, ok := rssKB(d.Pid); ok {
			rss += float64(kb)
		}
		m.Stop()
	}
	b.ReportMetric(handshakeNs/float64(b.N)/1e6, "handshake-ms")
	b.ReportMetric(rss/float64(b.N)/1024, "plugin-rss-MB")
}
