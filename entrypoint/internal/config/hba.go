package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
)

const hbaPrefix = "PG_HBA_ADD_"

// hbaRules parses every PG_HBA_ADD_<n> into its canonical line, sorted by n
// (then by variable name, so PG_HBA_ADD_01 and PG_HBA_ADD_1 keep a fixed order).
func (l *loader) hbaRules() []HBARule {
	var out []HBARule
	for _, k := range l.keysWithPrefix(hbaPrefix) {
		raw, ok := l.get(k)
		if !ok {
			continue
		}
		suffix := strings.TrimPrefix(k, hbaPrefix)
		n, err := strconv.Atoi(suffix)
		if err != nil || !isDigits(suffix) {
			l.problem(k, raw, "the name must end in a non-negative integer (PG_HBA_ADD_0, PG_HBA_ADD_1, ...)")
			continue
		}
		r, err := pgconf.ParseHBARule(raw)
		if err != nil {
			l.problem(k, raw, hbaMessage(k, raw, err))
			continue
		}
		out = append(out, HBARule{Index: n, Line: r.String(), Source: k})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Index != out[j].Index {
			return out[i].Index < out[j].Index
		}
		return out[i].Source < out[j].Source
	})
	return out
}

// hbaMessage describes a rule ParseHBARule rejected. pgconf never repeats
// option values, but a secret typed in the wrong field could be; so the
// values of secret-bearing options are removed from the message too.
func hbaMessage(name, raw string, err error) string {
	msg := "invalid pg_hba rule: " + err.Error()
	if displayValue(name, raw) != Mask {
		return msg
	}
	for _, f := range strings.Fields(raw) {
		k, v, ok := strings.Cut(strings.Trim(f, `"`), "=")
		if v = strings.Trim(v, `"`); ok && v != "" && hbaHasSecret(k) {
			msg = strings.ReplaceAll(msg, v, Mask)
		}
	}
	return msg
}
