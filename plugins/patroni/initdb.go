package patroni

import (
	"fmt"
	"strings"
)

// initdb options that take a value (long names, without "--").
var initdbValued = map[string]bool{
	"encoding": true, "locale": true, "lc-collate": true, "lc-ctype": true, "lc-messages": true,
	"lc-monetary": true, "lc-numeric": true, "lc-time": true, "auth": true, "auth-host": true,
	"auth-local": true, "waldir": true, "wal-segsize": true, "text-search-config": true,
	"locale-provider": true, "icu-locale": true, "icu-rules": true, "set": true,
	"builtin-locale": true, "sync-method": true, // PostgreSQL 17
}

// initdb options without a value.
var initdbFlags = map[string]bool{
	"data-checksums": true, "no-locale": true, "noclean": true, "no-clean": true,
	"no-instructions": true, "allow-group-access": true, "debug": true,
	"no-data-checksums": true, "no-sync-data-files": true, // PostgreSQL 18
}

// Options Patroni sets itself or refuses, with what to use instead.
var initdbRefused = map[string]string{
	"pgdata": "PGDATA", "username": "POSTGRES_USER", "pwfile": "POSTGRES_PASSWORD",
	"pwprompt": "POSTGRES_PASSWORD", "nosync": "nothing (Patroni refuses it)",
	"no-sync": "nothing (Patroni refuses it)", "sync-only": "nothing (Patroni refuses it)",
	"version": "nothing",
}

var initdbShort = map[string]string{
	"-E": "encoding", "-A": "auth", "-X": "waldir", "-k": "data-checksums", "-D": "pgdata",
	"-U": "username", "-W": "pwprompt", "-N": "nosync", "-S": "sync-only", "-n": "noclean",
	"-d": "debug", "-g": "allow-group-access", "-c": "set", "-T": "text-search-config", "-L": "",
}

// InitdbOptions turns POSTGRES_INITDB_ARGS (already split into words) into
// Patroni's bootstrap.initdb list: bare strings for flags, one-key maps for
// options with a value. It adds encoding UTF8 and locale (when not empty)
// unless the arguments choose them.
func InitdbOptions(args []string, locale string) ([]any, error) {
	var out []any
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		var name, value string
		hasValue := false
		switch {
		case strings.HasPrefix(a, "--"):
			name = a[2:]
			if k, v, ok := strings.Cut(name, "="); ok {
				name, value, hasValue = k, v, true
			}
		case len(a) >= 2 && a[0] == '-':
			long, ok := initdbShort[a[:2]]
			if !ok || long == "" {
				return nil, fmt.Errorf("initdb option %q is not supported in Patroni mode", a)
			}
			name = long
			if len(a) > 2 {
				value, hasValue = a[2:], true
			}
		default:
			return nil, fmt.Errorf("%q is not an initdb option (Patroni chooses the data directory)", a)
		}
		if instead, ok := initdbRefused[name]; ok {
			return nil, fmt.Errorf("initdb option --%s is set by Patroni; use %s", name, instead)
		}
		switch {
		case initdbFlags[name]:
			if hasValue {
				return nil, fmt.Errorf("initdb option --%s takes no value", name)
			}
			if name == "no-clean" {
				name = "noclean"
			}
			out = append(out, name)
		case initdbValued[name]:
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("initdb option --%s needs a value", name)
				}
				i++
				value = args[i]
			}
			if value == "" {
				return nil, fmt.Errorf("initdb option --%s needs a value", name)
			}
			out = append(out, map[string]string{name: value})
		default:
			return nil, fmt.Errorf("initdb option %q is not known to pgdock's Patroni mode", a)
		}
		seen[name] = true
	}
	var defaults []any
	if !seen["encoding"] {
		defaults = append(defaults, map[string]string{"encoding": "UTF8"})
	}
	localeChosen := seen["locale"] || seen["no-locale"]
	for k := range seen {
		if strings.HasPrefix(k, "lc-") {
			localeChosen = true
		}
	}
	if locale != "" && !localeChosen {
		defaults = append(defaults, map[string]string{"locale": locale})
	}
	return append(defaults, out...), nil
}
