package psql

import "strings"

// Ident quotes an identifier, schema-qualified when given several parts:
// each part in double quotes, a double quote doubled.
func Ident(parts ...string) string {
	q := make([]string, len(parts))
	for i, p := range parts {
		q[i] = `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
	}
	return strings.Join(q, ".")
}

// CreateExtension is the statement that creates extension name when it is
// missing, the name quoted as an identifier.
func CreateExtension(name string) string {
	return "CREATE EXTENSION IF NOT EXISTS " + Ident(name)
}
