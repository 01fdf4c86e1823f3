package config

import (
	"fmt"
	"strings"
)

// Mask replaces secret values wherever a value would be shown.
const Mask = "****"

// Problem is one invalid variable. Value is what the user set, or Mask for
// secrets; Message says what is wrong and what is accepted.
type Problem struct{ Var, Value, Message string }

// String formats the problem as `VAR="value": message`.
func (p Problem) String() string {
	return fmt.Sprintf("%s=%q: %s", p.Var, p.Value, p.Message)
}

// ValidationError carries every problem found in one pass.
type ValidationError struct{ Problems []Problem }

// Error lists all problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// IsSecret reports whether the variable holds a secret whose value must never
// be shown: the secret-bearing names of SecretVars (not POSTGRES_USER, _DB
// and _INITDB_ARGS, which only share the _FILE mechanism) and, defensively,
// any name that looks like one (PASSWORD, PASSWD, SECRET, PASSPHRASE, TOKEN,
// or ending in _PASS or _KEY). *_FILE names hold paths and are not secret;
// POSTGRESQL_CONFIG_* hold server parameters (password_encryption is not a
// secret).
func IsSecret(name string) bool {
	if strings.HasSuffix(name, "_FILE") || strings.HasPrefix(name, settingPrefix) {
		return false
	}
	switch name {
	case "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS":
		return false
	}
	for _, s := range secretVars {
		if s == name {
			return true
		}
	}
	u := strings.ToUpper(name)
	for _, w := range []string{"PASSWORD", "PASSWD", "SECRET", "PASSPHRASE", "TOKEN"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return strings.HasSuffix(u, "_PASS") || strings.HasSuffix(u, "_KEY")
}

// displayValue is the value as it may appear in messages and renders.
func displayValue(name, value string) string {
	if value == "" {
		return ""
	}
	if IsSecret(name) {
		return Mask
	}
	if carriesHBA(name) && hbaHasSecret(value) {
		return Mask
	}
	return value
}

// carriesHBA reports whether the variable's value is (part of) a pg_hba rule.
func carriesHBA(name string) bool {
	return strings.HasPrefix(name, hbaPrefix) || name == "POSTGRES_HOST_AUTH_METHOD" || name == "EXTERNAL_ACCESS_METHOD"
}

// hbaHasSecret reports whether a pg_hba rule carries an option holding a
// secret (ldapbindpasswd, radiussecrets).
func hbaHasSecret(line string) bool {
	l := strings.ToLower(line)
	return strings.Contains(l, "passwd") || strings.Contains(l, "secret")
}
