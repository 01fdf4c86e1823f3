package pgbackrest

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// INI is pgBackRest's configuration file format: [section] headers and
// key=value lines. pgBackRest takes a value literally up to the end of its
// line (no quoting, no escapes), so the writer refuses what cannot be
// written safely instead of encoding it: newlines, NUL and other control
// characters, leading or trailing blanks (trimmed by the reader) and
// malformed section or key names. Sections and keys keep their insertion
// order.
type INI struct {
	sections []*iniSection
}

type iniSection struct {
	name string
	keys [][2]string
}

var (
	iniSectionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)
	iniKeyRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Set adds key=value to section (created on first use).
func (f *INI) Set(section, key, value string) {
	var s *iniSection
	for _, x := range f.sections {
		if x.name == section {
			s = x
		}
	}
	if s == nil {
		s = &iniSection{name: section}
		f.sections = append(f.sections, s)
	}
	s.keys = append(s.keys, [2]string{key, value})
}

// Encode returns the file, or an error naming the first key whose name or
// value cannot be written. Secret values never appear in the error.
func (f *INI) Encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Written by pgdock's pgbackrest plugin on every start; edits are lost.\n")
	for i, s := range f.sections {
		if !iniSectionRe.MatchString(s.name) {
			return nil, fmt.Errorf("pgbackrest.conf: section name %q is not valid", s.name)
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "[%s]\n", s.name)
		seen := map[string]bool{}
		for _, kv := range s.keys {
			k, v := kv[0], kv[1]
			if !iniKeyRe.MatchString(k) {
				return nil, fmt.Errorf("pgbackrest.conf: option name %q is not valid", k)
			}
			if seen[k] {
				return nil, fmt.Errorf("pgbackrest.conf: option %s set twice in [%s]", k, s.name)
			}
			seen[k] = true
			if err := checkValue(v); err != nil {
				return nil, fmt.Errorf("pgbackrest.conf: the value of %s %w", k, err)
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
	}
	return b.Bytes(), nil
}

// checkValue refuses a value pgBackRest would not read back unchanged.
func checkValue(v string) error {
	if v == "" {
		return fmt.Errorf("is empty")
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("has leading or trailing blanks")
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("contains a newline or another control character")
		}
	}
	return nil
}
