package bench

import (
	"math"
	"strings"
	"testing"
)

func TestRenderTableAlignsColumns(t *testing.T) {
	var b strings.Builder
	err := RenderTable(&b, []string{"measure", "pgdock", "met?"}, [][]string{
		{"First boot → ready", "2310 ms", "yes"},
		{"RSS", "10.9 MiB"}, // short row: padded
		{"x", "y", "z", "extra"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"| measure            | pgdock   | met? |\n" +
		"| ------------------ | -------- | ---- |\n" +
		"| First boot → ready | 2310 ms  | yes  |\n" +
		"| RSS                | 10.9 MiB |      |\n" +
		"| x                  | y        | z    |\n"
	if got := b.String(); got != want {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatValue(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{
		{2310.4, "2310"}, {56.74, "56.7"}, {8.904, "8.90"}, {0, "0.00"}, {0.1234, "0.123"},
		{-42.25, "-42.2"}, {math.NaN(), "n/a"},
	} {
		if got := FormatValue(tt.in); got != tt.want {
			t.Errorf("FormatValue(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := FormatSigned(12); got != "+12.0" {
		t.Errorf("FormatSigned(12) = %q", got)
	}
	if got := FormatSigned(-3.4); got != "-3.40" {
		t.Errorf("FormatSigned(-3.4) = %q", got)
	}
}
