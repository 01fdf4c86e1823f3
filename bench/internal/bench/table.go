package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// RenderTable writes a Markdown pipe table whose columns are padded to a
// common width, so that it reads well in a terminal and pastes into docs.
// Rows shorter than header are padded with empty cells; longer rows are
// cut to the header's width.
func RenderTable(w io.Writer, header []string, rows [][]string) error {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i := 0; i < len(header) && i < len(r); i++ {
			width[i] = max(width[i], utf8.RuneCountInString(r[i]))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		b.WriteString("|")
		for i := range header {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		return b.String() + "\n"
	}
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	var b strings.Builder
	b.WriteString(line(header))
	b.WriteString(line(sep))
	for _, r := range rows {
		b.WriteString(line(r))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// FormatValue prints v with a precision that suits its size: 1234, 56.7,
// 8.90, 0.123. NaN prints as "n/a".
func FormatValue(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "n/a"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1 || a == 0:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// FormatSigned is FormatValue with an explicit sign: +12.0, -3.40, +0.00.
func FormatSigned(v float64) string {
	if v >= 0 || math.IsNaN(v) {
		return "+" + FormatValue(v)
	}
	return FormatValue(v)
}
