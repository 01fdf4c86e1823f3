package config

import (
	"fmt"
	"net/netip"
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
		if w := hbaTrustWarning(k, r); w != "" {
			l.warn(w)
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

// hbaTrustWarning is the warning for a PG_HBA_ADD_<n> rule that trusts
// connections which may come from another machine: every TCP rule with
// method trust whose address is not loopback-only (127.0.0.0/8, ::1,
// localhost) or samehost. Local (socket) rules and loopback rules stay
// quiet: they admit only processes on this host.
func hbaTrustWarning(name string, r pgconf.HBARule) string {
	if r.Method != "trust" || r.Type == "local" || loopbackOnly(r) {
		return ""
	}
	from := r.Address
	if r.Mask != "" {
		from += " " + r.Mask
	}
	return fmt.Sprintf("%s: method trust for %s connections from %s: anyone who can reach the server from there logs in as %s without a password; use scram-sha-256 unless the database is disposable",
		name, r.Type, from, strings.Join(r.Users, ","))
}

// loopbackOnly reports whether a TCP rule's address admits only this host.
func loopbackOnly(r pgconf.HBARule) bool {
	switch strings.ToLower(r.Address) {
	case "samehost", "localhost":
		return true
	case "all", "samenet", "":
		return false
	}
	if r.Mask != "" {
		a, errA := netip.ParseAddr(r.Address)
		m, errM := netip.ParseAddr(r.Mask)
		if errA != nil || errM != nil {
			return false
		}
		bits := 0
		for _, b := range m.AsSlice() {
			for ; b&0x80 != 0; b <<= 1 {
				bits++
			}
		}
		return loopbackPrefix(netip.PrefixFrom(a, bits))
	}
	if p, err := netip.ParsePrefix(r.Address); err == nil {
		return loopbackPrefix(p)
	}
	if a, err := netip.ParseAddr(r.Address); err == nil {
		return a.IsLoopback()
	}
	return false // a host name (or .suffix) other than localhost
}

// loopbackPrefix reports whether every address of p is a loopback address.
func loopbackPrefix(p netip.Prefix) bool {
	p = p.Masked()
	a := p.Addr()
	if a.Is4() {
		return p.Bits() >= 8 && a.IsLoopback()
	}
	return a.Unmap() == netip.IPv6Loopback() && p.Bits() == 128 || (a.Is4In6() && p.Bits() >= 96+8 && a.Unmap().IsLoopback())
}
