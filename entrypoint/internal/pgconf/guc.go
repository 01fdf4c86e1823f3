package pgconf

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnrepresentable is wrapped by errors for values that postgresql.conf or
// pg_hba.conf syntax cannot carry (newline, carriage return, NUL, or a double
// quote inside a pg_hba name).
var ErrUnrepresentable = errors.New("value cannot be represented")

// ValidateName checks a configuration parameter name against the syntax that
// PostgreSQL's configuration-file lexer (guc-file.l) accepts: an identifier
// [A-Za-z_][A-Za-z0-9_]*, optionally qualified by one more identifier after a
// dot (cron.database_name). Only ASCII is accepted. Whether the parameter
// exists is not checked here: only the server knows that.
func ValidateName(name string) error {
	if name == "" {
		return errors.New("parameter name is empty")
	}
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return fmt.Errorf("parameter name %q has more than one dot; accepted: name or prefix.name", name)
	}
	for _, p := range parts {
		if !isIdent(p) {
			return fmt.Errorf("parameter name %q is invalid; accepted: letters, digits and underscores, not starting with a digit, optionally prefix.name", name)
		}
	}
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// QuoteValue encodes v as a single-quoted postgresql.conf string literal,
// doubling every single quote and every backslash, so that PostgreSQL reads
// back exactly v. The result is always quoted, which PostgreSQL accepts for
// parameters of every type. A newline, carriage return or NUL cannot be
// written into a configuration line and is rejected.
func QuoteValue(v string) (string, error) {
	if i := strings.IndexAny(v, "\n\r\x00"); i >= 0 {
		return "", fmt.Errorf("%w: contains a %s; configuration values must fit on one line", ErrUnrepresentable, describeByte(v[i]))
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\'':
			b.WriteString("''")
		case '\\':
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// FormatLine returns one postgresql.conf line, "name = 'value'", after
// validating the name and quoting the value.
func FormatLine(name, value string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	q, err := QuoteValue(value)
	if err != nil {
		return "", fmt.Errorf("parameter %s: %w", name, err)
	}
	return name + " = " + q, nil
}

func describeByte(c byte) string {
	switch c {
	case '\n':
		return "newline"
	case '\r':
		return "carriage return"
	case 0:
		return "NUL character"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
