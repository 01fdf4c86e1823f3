package pgconf

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// HBARule is one parsed pg_hba.conf rule.
//
// Databases and Users hold tokens in canonical pg_hba form: keywords (all,
// sameuser, samerole, samegroup, replication) and +group references bare,
// other names double-quoted only where needed, so that strings.Join(x, ",")
// is the field as written. Address is empty for local rules; otherwise it is
// a keyword (all, samehost, samenet), a CIDR range, an IP address (then Mask
// holds its netmask) or a host name (a leading dot matches a suffix). Options
// hold name=value pairs with the value unquoted; String quotes where needed.
type HBARule struct {
	Type      string
	Databases []string
	Users     []string
	Address   string
	Mask      string
	Method    string
	Options   []string
}

// maxTokenLen is the longest token PostgreSQL's pg_hba tokenizer accepts
// (MAX_TOKEN 256 including the terminating NUL).
const maxTokenLen = 255

// connTypes are the connection types of a pg_hba rule (PostgreSQL 15).
var connTypes = []string{"local", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}

// authMethods are PostgreSQL 15's authentication method names.
var authMethods = []string{"trust", "reject", "scram-sha-256", "md5", "password", "gss", "sspi", "ident", "peer", "ldap", "radius", "cert", "pam", "bsd"}

// unsupportedMethods cannot work on Linux builds of PostgreSQL: the server
// refuses to load a pg_hba file that names them.
var unsupportedMethods = map[string]string{
	"sspi": "SSPI exists only on Windows",
	"bsd":  "BSD authentication exists only on OpenBSD",
}

// optionMethods lists, for each pg_hba authentication option of
// PostgreSQL 15, the methods that accept it (nil: any method, with a
// connection-type rule checked separately).
var optionMethods = map[string][]string{
	"map":                 {"ident", "peer", "gss", "sspi", "cert"},
	"clientcert":          nil,
	"clientname":          nil,
	"pamservice":          {"pam"},
	"pam_use_hostname":    {"pam"},
	"ldapurl":             {"ldap"},
	"ldaptls":             {"ldap"},
	"ldapscheme":          {"ldap"},
	"ldapserver":          {"ldap"},
	"ldapport":            {"ldap"},
	"ldapbinddn":          {"ldap"},
	"ldapbindpasswd":      {"ldap"},
	"ldapsearchattribute": {"ldap"},
	"ldapsearchfilter":    {"ldap"},
	"ldapbasedn":          {"ldap"},
	"ldapprefix":          {"ldap"},
	"ldapsuffix":          {"ldap"},
	"krb_realm":           {"gss", "sspi"},
	"include_realm":       {"gss", "sspi"},
	"compat_realm":        {"sspi"},
	"upn_username":        {"sspi"},
	"radiusservers":       {"radius"},
	"radiusports":         {"radius"},
	"radiussecrets":       {"radius"},
	"radiusidentifiers":   {"radius"},
}

// hbaKeywords lose their meaning when quoted; names equal to one are quoted.
var hbaKeywords = []string{"all", "sameuser", "samerole", "samegroup", "replication", "samehost", "samenet"}

var hostnameRE = regexp.MustCompile(`^\.?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$`)

// hbaToken is one token as PostgreSQL's tokenizer sees it: the text with
// quotes removed, and whether it began with a double quote (which turns off
// keywords, +group and @file).
type hbaToken struct {
	text   string
	quoted bool
}

// ParseHBARule parses and validates one pg_hba.conf rule the way
// PostgreSQL 15 would: connection type, database list, user list, address
// (not for local), authentication method and name=value options. It rejects
// what the server would refuse to load, and also what pgdock does not write:
// @file inclusions, comments, line continuations, names containing a double
// quote, and authentication methods that cannot work on Linux (sspi, bsd).
// Error messages never repeat option values, which may be secrets.
func ParseHBARule(line string) (HBARule, error) {
	if i := strings.IndexAny(line, "\n\r\x00"); i >= 0 {
		return HBARule{}, fmt.Errorf("%w: a rule must be one line without a %s", ErrUnrepresentable, describeByte(line[i]))
	}
	if strings.HasSuffix(line, `\`) {
		return HBARule{}, errors.New(`a rule must not end with a backslash (PostgreSQL would join it with the next line)`)
	}
	fields, err := tokenizeHBA(line)
	if err != nil {
		return HBARule{}, err
	}
	if len(fields) == 0 {
		return HBARule{}, errors.New("empty rule; expected: type database user [address] method [options]")
	}
	var r HBARule
	if len(fields[0]) > 1 {
		return HBARule{}, errors.New("multiple values specified for connection type")
	}
	r.Type = fields[0][0].text
	if !contains(connTypes, r.Type) {
		return HBARule{}, fmt.Errorf("invalid connection type %q; accepted: %s", r.Type, strings.Join(connTypes, ", "))
	}
	if len(fields) < 2 {
		return HBARule{}, errors.New("end-of-line before database specification")
	}
	for _, t := range fields[1] {
		s, err := canonicalDatabase(t)
		if err != nil {
			return HBARule{}, fmt.Errorf("database field: %w", err)
		}
		r.Databases = append(r.Databases, s)
	}
	if len(fields) < 3 {
		return HBARule{}, errors.New("end-of-line before role specification")
	}
	for _, t := range fields[2] {
		s, err := canonicalUser(t)
		if err != nil {
			return HBARule{}, fmt.Errorf("user field: %w", err)
		}
		r.Users = append(r.Users, s)
	}
	next := 3
	if r.Type != "local" {
		n, err := r.parseAddress(fields[next:])
		if err != nil {
			return HBARule{}, err
		}
		next += n
	}
	if len(fields) <= next {
		if r.Type != "local" && contains(authMethods, r.Address) {
			return HBARule{}, fmt.Errorf("the address is missing: %q is an authentication method; expected: %s database user address method", r.Address, r.Type)
		}
		return HBARule{}, errors.New("end-of-line before authentication method")
	}
	if err := r.parseMethod(fields[next]); err != nil {
		return HBARule{}, err
	}
	for _, f := range fields[next+1:] {
		for _, t := range f {
			r.Options = append(r.Options, t.text)
		}
	}
	if err := r.checkOptions(); err != nil {
		return HBARule{}, err
	}
	return r, nil
}

// String returns the rule as one canonical pg_hba.conf line, fields separated
// by single spaces, tokens quoted where needed. ParseHBARule(r.String())
// returns r for every r that ParseHBARule produced.
func (r HBARule) String() string {
	f := []string{r.Type, strings.Join(r.Databases, ","), strings.Join(r.Users, ",")}
	if r.Address != "" {
		f = append(f, r.Address)
		if r.Mask != "" {
			f = append(f, r.Mask)
		}
	}
	f = append(f, r.Method)
	for _, o := range r.Options {
		name, val, _ := strings.Cut(o, "=")
		if optionValueNeedsQuote(val) {
			o = name + `="` + val + `"`
		}
		f = append(f, o)
	}
	return strings.Join(f, " ")
}

// QuoteHBAToken double-quotes a role or database name for pg_hba.conf or
// pg_ident.conf, so that it always denotes that literal name (never a keyword,
// a +group or an @file). PostgreSQL's tokenizer cannot carry a name containing
// a double quote reliably, nor a newline, carriage return or NUL: those are
// errors, as are empty names and names longer than 255 bytes.
func QuoteHBAToken(s string) (string, error) {
	if err := checkName(s); err != nil {
		return "", err
	}
	return `"` + s + `"`, nil
}

func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case strings.ContainsAny(s, "\n\r\x00"):
		return fmt.Errorf("%w: name %q contains a newline, carriage return or NUL", ErrUnrepresentable, s)
	case strings.Contains(s, `"`):
		return fmt.Errorf("%w: name %q contains a double quote, which pg_hba.conf cannot carry", ErrUnrepresentable, s)
	case len(s) > maxTokenLen:
		return fmt.Errorf("name is %d bytes long; pg_hba.conf accepts at most %d", len(s), maxTokenLen)
	}
	return nil
}

// tokenizeHBA splits a rule into fields of comma-separated tokens, following
// next_token in PostgreSQL's hba.c, but strictly: a comment, a doubled
// double quote, an empty list element or an unterminated quote is an error.
func tokenizeHBA(line string) ([][]hbaToken, error) {
	var fields [][]hbaToken
	pos := 0
	skipBlanks := func() {
		for pos < len(line) && (line[pos] == ' ' || line[pos] == '\t') {
			pos++
		}
	}
	for {
		skipBlanks()
		if pos >= len(line) {
			return fields, nil
		}
		var field []hbaToken
		for {
			tok, comma, err := readHBAToken(line, &pos)
			if err != nil {
				return nil, err
			}
			field = append(field, tok)
			if !comma {
				break
			}
			skipBlanks()
			if pos >= len(line) || line[pos] == ',' {
				return nil, errors.New("empty element in a comma-separated list")
			}
		}
		fields = append(fields, field)
	}
}

func readHBAToken(line string, pos *int) (hbaToken, bool, error) {
	var b strings.Builder
	var tok hbaToken
	inQuote, justClosed, sawQuote, comma := false, false, false, false
loop:
	for ; *pos < len(line); *pos++ {
		c := line[*pos]
		switch {
		case !inQuote && (c == ' ' || c == '\t'):
			break loop
		case !inQuote && c == '#':
			return tok, false, errors.New(`comments ("#") are not allowed inside a rule; quote the name if it contains "#"`)
		case !inQuote && c == ',':
			comma = true
			*pos++
			break loop
		case c == '"' && inQuote:
			inQuote, justClosed = false, true
			continue
		case c == '"':
			if justClosed {
				return tok, false, fmt.Errorf("%w: a doubled double quote (a name containing \") is not supported", ErrUnrepresentable)
			}
			if b.Len() == 0 && !sawQuote {
				tok.quoted = true
			}
			inQuote, sawQuote = true, true
			continue
		}
		justClosed = false
		b.WriteByte(c)
	}
	if inQuote {
		return tok, false, errors.New("unterminated double quote")
	}
	tok.text = b.String()
	if tok.text == "" && !sawQuote {
		return tok, false, errors.New("empty element in a comma-separated list")
	}
	if len(tok.text) > maxTokenLen {
		return tok, false, fmt.Errorf("a token is %d bytes long; pg_hba.conf accepts at most %d", len(tok.text), maxTokenLen)
	}
	return tok, comma, nil
}

func canonicalDatabase(t hbaToken) (string, error) {
	if !t.quoted {
		switch t.text {
		case "all", "sameuser", "samerole", "samegroup", "replication":
			return t.text, nil
		}
		if len(t.text) > 1 && t.text[0] == '@' {
			return "", errors.New("@file inclusion is not supported; list the names instead")
		}
	}
	return literalName(t.text)
}

func canonicalUser(t hbaToken) (string, error) {
	if !t.quoted {
		if t.text == "all" {
			return t.text, nil
		}
		if len(t.text) > 1 && t.text[0] == '@' {
			return "", errors.New("@file inclusion is not supported; list the names instead")
		}
		if strings.HasPrefix(t.text, "+") {
			g := t.text[1:]
			if g == "" {
				return "", errors.New(`"+" must be followed by a role name`)
			}
			if err := checkName(g); err != nil {
				return "", err
			}
			return "+" + quoteIfNeeded(g), nil
		}
	}
	return literalName(t.text)
}

func literalName(s string) (string, error) {
	if err := checkName(s); err != nil {
		return "", err
	}
	return quoteIfNeeded(s), nil
}

// quoteIfNeeded quotes a literal name unless it is made only of characters
// that can never be special in pg_hba.conf and is not a keyword.
func quoteIfNeeded(s string) string {
	if nameNeedsQuote(s) {
		return `"` + s + `"`
	}
	return s
}

func nameNeedsQuote(s string) bool {
	if s == "" || contains(hbaKeywords, s) || strings.ContainsRune("+@/", rune(s[0])) {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '$') {
			return true
		}
	}
	return false
}

func optionValueNeedsQuote(v string) bool {
	return strings.ContainsAny(v, " \t,#\"") || strings.HasSuffix(v, `\`)
}

// parseAddress reads the address field (and the mask field after a bare IP
// address) and returns how many fields it consumed.
func (r *HBARule) parseAddress(fields [][]hbaToken) (int, error) {
	if len(fields) == 0 {
		return 0, errors.New("end-of-line before IP address specification")
	}
	if len(fields[0]) > 1 {
		return 0, errors.New("multiple values specified for host address; specify one address range per rule")
	}
	t := fields[0][0]
	if t.quoted {
		return 0, fmt.Errorf("address %q must not be quoted", t.text)
	}
	switch t.text {
	case "all", "samehost", "samenet":
		r.Address = t.text
		return 1, nil
	}
	host, bits, hasBits := strings.Cut(t.text, "/")
	addr, addrErr := netip.ParseAddr(host)
	if addrErr == nil && addr.Zone() != "" {
		return 0, fmt.Errorf("invalid IP address %q: zones are not supported", t.text)
	}
	if hasBits {
		if addrErr != nil {
			if isHostname(host) {
				return 0, fmt.Errorf("specifying both host name and CIDR mask is invalid: %q", t.text)
			}
			return 0, fmt.Errorf("invalid IP address %q", t.text)
		}
		n, err := strconv.Atoi(bits)
		if err != nil || !isDigits(bits) || n > addr.BitLen() {
			return 0, fmt.Errorf("invalid CIDR mask in address %q; accepted: /0 to /%d", t.text, addr.BitLen())
		}
		r.Address = netip.PrefixFrom(addr, n).String()
		return 1, nil
	}
	if addrErr != nil {
		if !isHostname(host) {
			return 0, fmt.Errorf("invalid IP address or host name %q; accepted: all, samehost, samenet, a CIDR range (10.0.0.0/8), an IP address followed by a netmask, or a host name", t.text)
		}
		r.Address = t.text
		return 1, nil
	}
	// A bare IP address: the next field is its netmask.
	if len(fields) < 2 {
		return 0, fmt.Errorf("end-of-line before netmask specification; write %s/%d or give a separate netmask", addr, addr.BitLen())
	}
	if len(fields[1]) > 1 {
		return 0, errors.New("multiple values specified for netmask")
	}
	m := fields[1][0].text
	mask, err := netip.ParseAddr(m)
	if err != nil || mask.Zone() != "" {
		return 0, fmt.Errorf("invalid IP mask %q after address %s; write the address in CIDR form (%s/%d) or follow it with a netmask", m, addr, addr, addr.BitLen())
	}
	if mask.Is4() != addr.Is4() {
		return 0, errors.New("IP address and mask do not match (one is IPv4, the other IPv6)")
	}
	if !isContiguousMask(mask) {
		return 0, fmt.Errorf("IP mask %q is not a contiguous netmask", m)
	}
	r.Address, r.Mask = addr.String(), mask.String()
	return 2, nil
}

func (r *HBARule) parseMethod(field []hbaToken) error {
	if len(field) > 1 {
		return errors.New("multiple values specified for authentication method")
	}
	m := field[0].text
	if !contains(authMethods, m) {
		if r.Type == "local" && looksLikeAddress(m) {
			return fmt.Errorf("local rules take no address, but %q follows the user field; expected an authentication method (%s)", m, strings.Join(authMethods, ", "))
		}
		return fmt.Errorf("invalid authentication method %q; accepted: %s", m, strings.Join(authMethods, ", "))
	}
	if why, ok := unsupportedMethods[m]; ok {
		return fmt.Errorf("authentication method %q is not supported by this build: %s", m, why)
	}
	switch {
	case r.Type == "local" && m == "gss":
		return errors.New("gssapi authentication is not supported on local sockets")
	case r.Type != "local" && m == "peer":
		return errors.New("peer authentication is only supported on local sockets")
	case r.Type != "hostssl" && m == "cert":
		return errors.New("cert authentication is only supported on hostssl connections")
	}
	r.Method = m
	return nil
}

// checkOptions validates the name=value options against the method, as
// PostgreSQL 15's parse_hba_auth_opt does. Messages name options, never
// values.
func (r *HBARule) checkOptions() error {
	set := map[string]bool{}
	for i, o := range r.Options {
		name, val, ok := strings.Cut(o, "=")
		if !ok {
			return fmt.Errorf("authentication option %d is not in name=value format", i+1)
		}
		methods, known := optionMethods[name]
		if !known {
			return fmt.Errorf("unrecognized authentication option name %q", name)
		}
		if methods != nil && !contains(methods, r.Method) {
			return fmt.Errorf("authentication option %q is only valid for authentication methods %s", name, strings.Join(methods, ", "))
		}
		switch name {
		case "clientcert":
			if r.Type != "hostssl" {
				return errors.New(`clientcert can only be configured for "hostssl" rows`)
			}
			if val != "verify-full" && (val != "verify-ca" || r.Method == "cert") {
				if r.Method == "cert" {
					return errors.New(`clientcert only accepts "verify-full" when using "cert" authentication`)
				}
				return errors.New("invalid value for clientcert; accepted: verify-ca, verify-full")
			}
		case "clientname":
			if r.Type != "hostssl" {
				return errors.New(`clientname can only be configured for "hostssl" rows`)
			}
			if val != "CN" && val != "DN" {
				return errors.New("invalid value for clientname; accepted: CN, DN")
			}
		case "ldapscheme":
			if val != "ldap" && val != "ldaps" {
				return errors.New("invalid value for ldapscheme; accepted: ldap, ldaps")
			}
		case "ldapport":
			if n, err := strconv.Atoi(val); err != nil || n < 1 || n > 65535 {
				return errors.New("invalid value for ldapport; accepted: a port number 1 to 65535")
			}
		}
		set[name] = true
	}
	switch r.Method {
	case "ldap":
		if set["ldapprefix"] || set["ldapsuffix"] {
			for _, o := range []string{"ldapbasedn", "ldapbinddn", "ldapbindpasswd", "ldapsearchattribute", "ldapsearchfilter", "ldapurl"} {
				if set[o] {
					return errors.New("cannot use ldapbasedn, ldapbinddn, ldapbindpasswd, ldapsearchattribute, ldapsearchfilter, or ldapurl together with ldapprefix or ldapsuffix")
				}
			}
		} else if !set["ldapbasedn"] && !set["ldapurl"] {
			return errors.New(`authentication method "ldap" requires option ldapbasedn, ldapurl, ldapprefix, or ldapsuffix`)
		}
		if set["ldapsearchattribute"] && set["ldapsearchfilter"] {
			return errors.New("cannot use ldapsearchattribute together with ldapsearchfilter")
		}
	case "radius":
		for _, o := range []string{"radiusservers", "radiussecrets"} {
			if !set[o] {
				return fmt.Errorf(`authentication method "radius" requires option %s`, o)
			}
		}
	}
	return nil
}

func isHostname(s string) bool {
	if len(s) > 253 || !hostnameRE.MatchString(s) {
		return false
	}
	// A last label made of digits is a malformed IP address, not a name.
	last := s[strings.LastIndexByte(s, '.')+1:]
	return !isDigits(last)
}

func looksLikeAddress(s string) bool {
	switch s {
	case "all", "samehost", "samenet":
		return true
	}
	return strings.ContainsAny(s, ".:/")
}

func isContiguousMask(m netip.Addr) bool {
	zero := false
	for _, b := range m.AsSlice() {
		for bit := 7; bit >= 0; bit-- {
			one := b&(1<<bit) != 0
			if one && zero {
				return false
			}
			if !one {
				zero = true
			}
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
