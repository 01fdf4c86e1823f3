package psql

import (
	"fmt"
	"strings"
)

// parseCopy reads COPY's text format: rows end with a newline, fields are
// separated by tabs, NULL is \N, and a backslash escapes backslash, tab,
// newline, carriage return and the like inside a value.
func parseCopy(out string) ([][]*string, error) {
	if out == "" {
		return nil, nil
	}
	body, ok := strings.CutSuffix(out, "\n")
	if !ok {
		return nil, fmt.Errorf("psql: COPY output does not end with a newline (%d bytes)", len(out))
	}
	lines := strings.Split(body, "\n")
	rows := make([][]*string, 0, len(lines))
	for i, l := range lines {
		fields := strings.Split(l, "\t")
		if i > 0 && len(fields) != len(rows[0]) {
			return nil, fmt.Errorf("psql: COPY output row %d has %d fields, row 1 has %d", i+1, len(fields), len(rows[0]))
		}
		row := make([]*string, len(fields))
		for j, f := range fields {
			if f == `\N` {
				continue
			}
			v := unescapeCopy(f)
			row[j] = &v
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// unescapeCopy undoes COPY's text escapes: \b \f \n \r \t \v, octal \ooo,
// hex \xhh, and a backslash before any other character.
func unescapeCopy(f string) string {
	if !strings.Contains(f, `\`) {
		return f
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = f[i]; c {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(f) && f[i+1] >= '0' && f[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(f[i]-'0')
			}
			b.WriteByte(byte(v))
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(f) && isHex(f[i+1]) {
				i++
				v = v*16 + hexVal(f[i])
				n++
			}
			if n == 0 {
				b.WriteByte('x')
			} else {
				b.WriteByte(byte(v))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}
