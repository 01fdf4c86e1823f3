package sdk

import (
	"errors"
	"strings"
)

// ErrNotBool is ParseBool's error. It names the accepted spellings only, so
// that callers decide whether the rejected value may be shown (it may be a
// secret).
var ErrNotBool = errors.New("must be a boolean: true/false, 1/0, yes/no or on/off (any case)")

// ParseBool is the contract's boolean rule, shared by the host and every
// plugin: true/false, 1/0, yes/no and on/off in any case, surrounding spaces
// ignored. Anything else, the empty string included, is ErrNotBool. Plugins
// use it for their own boolean variables instead of strconv.ParseBool, which
// accepts other spellings ("t", "F") and rejects "yes" and "on".
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, ErrNotBool
}
