package logging

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.uber.org/zap/buffer"
)

type bufferType = buffer.Buffer

// flattenJSON turns a JSON object rendered by zap into `k=v` pairs, keeping
// zap's field order. Strings with spaces or quotes are quoted.
func flattenJSON(raw string) string {
	if raw == "" || raw == "{}" {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return raw
	}
	var parts []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return raw
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return raw
		}
		parts = append(parts, escapeControl(key)+"="+renderValue(v))
	}
	return strings.Join(parts, " ")
}

func renderValue(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == "" || strings.ContainsAny(s, " \"=") || needsEscape(s) {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	return escapeControl(string(v)) // numbers, booleans, objects: zap's JSON as is
}

// needsEscape reports whether s holds a character that could end or forge
// a log line, or hide text on a terminal: a C0 or C1 control character
// (newline, carriage return, tab, escape, ...), DEL, the Unicode line and
// paragraph separators, or bytes that are not UTF-8.
func needsEscape(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return true
			}
		}
		if unsafeRune(r) {
			return true
		}
	}
	return false
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// escapeControl writes every character needsEscape objects to as a Go
// escape (\n, \r, \t, \x1b, \u2028, \xff for a stray byte) and leaves
// everything else, backslashes included, as it is: a text log line is then
// always exactly one line, whatever a message or value contains.
func escapeControl(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r):
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u2028'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
