package bench

import (
	"strings"
	"testing"
	"time"
)

func TestLogWatchRecordsFirstMatchAndCopies(t *testing.T) {
	in := "starting\n[INFO] PostgreSQL is ready took=5ms\nLOG: database system is ready to accept connections\n[INFO] PostgreSQL is ready again\nno newline at the end"
	var copied strings.Builder
	w := newLogWatch(strings.NewReader(in), &copied, patReady, patServerReady, patSleep)
	select {
	case <-w.eof:
	case <-time.After(5 * time.Second):
		t.Fatal("reader did not finish")
	}
	if _, line, ok := w.at(patReady); !ok || line != "[INFO] PostgreSQL is ready took=5ms" {
		t.Fatalf("first match of %q = %q, %v", patReady, line, ok)
	}
	select {
	case <-w.seenCh(patServerReady):
	default:
		t.Fatalf("%q not signalled", patServerReady)
	}
	if _, _, ok := w.at(patSleep); ok {
		t.Fatalf("%q reported although absent", patSleep)
	}
	if copied.String() != in {
		t.Fatalf("copy = %q", copied.String())
	}
	if !strings.HasSuffix(w.tail(), "no newline at the end") {
		t.Fatalf("tail = %q", w.tail())
	}
}
