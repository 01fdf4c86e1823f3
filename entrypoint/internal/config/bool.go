package config

import (
	"errors"
	"strings"
)

// errNotBool is ParseBool's error; it names the accepted spellings only, so
// callers decide whether the value may be shown.
var errNotBool = errors.New("must be a boolean: true/false, 1/0, yes/no or on/off (any case)")

// ParseBool accepts true/false, 1/0, yes/no and on/off in any case, with
// surrounding spaces ignored.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, errNotBool
}
