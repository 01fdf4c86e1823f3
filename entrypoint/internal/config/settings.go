package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const (
	settingPrefix = "POSTGRESQL_CONFIG_"
	// configFileVar shares settingPrefix but is the legacy config-file path,
	// not a parameter named "file".
	configFileVar = "POSTGRESQL_CONFIG_FILE"
)

// namedSetting is one of the old container's named setting variables.
type namedSetting struct {
	Var, GUC string
	// normalize checks the value and returns the form written; nil accepts
	// any value postgresql.conf can carry.
	normalize func(string) (string, error)
	// exact: normalize accepts exactly what the server accepts (Setting.Exact).
	exact bool
}

var namedSettings = []namedSetting{
	{Var: "POSTGRESQL_SHARED_BUFFERS", GUC: "shared_buffers", normalize: memory},
	{Var: "POSTGRESQL_MAX_CONNECTIONS", GUC: "max_connections", normalize: maxConnections},
	{Var: "POSTGRESQL_WORK_MEM", GUC: "work_mem", normalize: memory},
	{Var: "POSTGRESQL_MAINTENANCE_WORK_MEM", GUC: "maintenance_work_mem", normalize: memory},
	// listen_addresses is a string without a check hook (the server takes
	// any value until it binds); log_statement an enum; log_duration a boolean.
	{Var: "POSTGRESQL_LISTEN_ADDRESSES", GUC: "listen_addresses", normalize: listenAddresses, exact: true},
	{Var: "POSTGRESQL_LOG_STATEMENT", GUC: "log_statement", normalize: logStatement, exact: true},
	{Var: "POSTGRESQL_LOG_DURATION", GUC: "log_duration", normalize: onOff, exact: true},
	{Var: "POSTGRESQL_TIMEZONE", GUC: "timezone"},
}

// reservedGUCs are parameters pgdock sets itself; each maps to what to use
// instead.
var reservedGUCs = map[string]string{
	"port":                    "PGPORT",
	"unix_socket_directories": "POSTGRESQL_UNIX_SOCKET_DIRECTORIES",
	"data_directory":          "PGDATA",
	"config_file":             "POSTGRESQL_CONFIG_FILE",
	"hba_file":                "PG_HBA_ADD_<n> rules, or a pg_hba.conf in PGCONFIG",
	"ident_file":              "a pg_ident.conf in PGCONFIG",
	"include":                 "a postgresql.conf in PGCONFIG",
	"include_dir":             "a postgresql.conf in PGCONFIG",
	"include_if_exists":       "a postgresql.conf in PGCONFIG",
	"ssl_cert_file":           "POSTGRESQL_TLS_CERT_FILE",
	"ssl_key_file":            "POSTGRESQL_TLS_KEY_FILE",
	"ssl_ca_file":             "POSTGRESQL_TLS_CA_FILE",
}

var (
	memoryRE   = regexp.MustCompile(`^[0-9]+(kB|MB|GB|TB)?$`)
	hostnameRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
)

// GUCName returns the parameter a POSTGRESQL_CONFIG_<suffix> variable sets:
// the suffix lower-cased, with "__" standing for a dot
// (CRON__DATABASE_NAME → cron.database_name).
func GUCName(suffix string) string {
	return strings.ToLower(strings.ReplaceAll(suffix, "__", "."))
}

// settings collects the named settings and POSTGRESQL_CONFIG_* variables,
// sorted by variable name, adding listen_addresses = '*' when no variable
// sets it. Names, reserved parameters and duplicates are checked by Validate.
func (l *loader) settings() []Setting {
	var out []Setting
	for _, n := range namedSettings {
		raw, ok := l.get(n.Var)
		if !ok {
			continue
		}
		v := raw
		if n.normalize != nil {
			nv, err := n.normalize(raw)
			if err != nil {
				l.problem(n.Var, raw, err.Error())
				continue
			}
			v = nv
		}
		out = append(out, Setting{Name: n.GUC, Value: v, Source: n.Var, Exact: n.exact})
	}
	for _, k := range l.keysWithPrefix(settingPrefix) {
		raw, ok := l.get(k)
		if !ok || k == configFileVar {
			continue
		}
		suffix := strings.TrimPrefix(k, settingPrefix)
		if suffix == "" {
			l.problem(k, raw, "must name a parameter after the prefix, e.g. POSTGRESQL_CONFIG_WORK_MEM")
			continue
		}
		out = append(out, Setting{Name: GUCName(suffix), Value: raw, Source: k})
	}
	hasListen := false
	for _, s := range out {
		hasListen = hasListen || s.Name == "listen_addresses"
	}
	if !hasListen {
		out = append(out, defaultListen())
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

func memory(v string) (string, error) {
	if !memoryRE.MatchString(v) {
		return "", errors.New("must be a whole number with an optional unit kB, MB, GB or TB (e.g. 256MB; units are case-sensitive)")
	}
	return v, nil
}

func maxConnections(v string) (string, error) {
	n, err := strconv.Atoi(v)
	if err != nil || !isDigits(v) || n < 1 || n > 262143 {
		return "", errors.New("must be an integer between 1 and 262143")
	}
	return v, nil
}

func logStatement(v string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "none", "ddl", "mod", "all":
		return s, nil
	}
	return "", errors.New("must be one of none, ddl, mod, all")
}

func onOff(v string) (string, error) {
	b, err := ParseBool(v)
	if err != nil {
		return "", err
	}
	if b {
		return "on", nil
	}
	return "off", nil
}

func listenAddresses(v string) (string, error) {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		if p == "*" || hostnameRE.MatchString(p) {
			continue
		}
		if a, err := netip.ParseAddr(p); err == nil && a.Zone() == "" {
			continue
		}
		return "", fmt.Errorf("must be * or a comma-separated list of host names and IP addresses (%q is neither)", p)
	}
	return strings.Join(parts, ","), nil
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
