package pgstatmonitor

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// kind is a setting's PostgreSQL type.
type kind int

const (
	kindInt kind = iota
	kindReal
	kindBool
	kindEnum
)

// known is one pg_stat_monitor setting (pg_stat_monitor.pgsm_<name>).
type known struct {
	name     string // without the pgsm_ prefix, lower case
	kind     kind
	min, max float64  // int and real
	unit     string   // "MB", "s", "ms" or ""
	values   []string // enum
	since    version  // the first version that has it
	removed  string   // non-empty: not settable any more, with the advice
}

// version is a major.minor extension version.
type version struct{ major, minor int }

func (v version) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v version) less(o version) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

// MinVersion is the oldest pg_stat_monitor the plugin configures.
var MinVersion = version{2, 0}

const intMax = 2147483647

// settings are pg_stat_monitor 2.x's parameters (its guc.c): type, range,
// unit and the version that added them.
var settings = []known{
	{name: "max", kind: kindInt, min: 10, max: 10240, unit: "MB", since: version{2, 0}},
	{name: "query_max_len", kind: kindInt, min: 1024, max: intMax, since: version{2, 0}},
	{name: "max_buckets", kind: kindInt, min: 1, max: 20000, since: version{2, 0}},
	{name: "bucket_time", kind: kindInt, min: 1, max: intMax, unit: "s", since: version{2, 0}},
	{name: "histogram_min", kind: kindReal, min: 0, max: 50000000, unit: "ms", since: version{2, 0}},
	{name: "histogram_max", kind: kindReal, min: 10, max: 50000000, unit: "ms", since: version{2, 0}},
	{name: "histogram_buckets", kind: kindInt, min: 2, max: 50, since: version{2, 0}},
	{name: "query_shared_buffer", kind: kindInt, min: 1, max: 10000, unit: "MB", since: version{2, 0}},
	{name: "track_utility", kind: kindBool, since: version{2, 0}},
	{name: "track_planning", kind: kindBool, since: version{2, 0}},
	{name: "normalized_query", kind: kindBool, since: version{2, 0}},
	{name: "enable_query_plan", kind: kindBool, since: version{2, 0}},
	{name: "enable_overflow", kind: kindBool, since: version{2, 0}},
	{name: "enable_pgsm_query_id", kind: kindBool, since: version{2, 0}},
	{name: "extract_comments", kind: kindBool, since: version{2, 0}},
	{name: "track", kind: kindEnum, values: []string{"top", "all", "none"}, since: version{2, 0}},
	{name: "track_application_names", kind: kindBool, since: version{2, 1}},
	{name: "overflow_target", since: version{2, 0}, removed: "deprecated since pg_stat_monitor 2.0 and ignored; set " + EnvPrefix + "ENABLE_OVERFLOW instead"},
}

func lookup(name string) (known, bool) {
	for _, k := range settings {
		if k.name == name {
			return k, true
		}
	}
	return known{}, false
}

// names lists the settings a version has, as variable suffixes.
func names(v version) []string {
	var out []string
	for _, k := range settings {
		if k.removed == "" && !v.less(k.since) {
			out = append(out, strings.ToUpper(k.name))
		}
	}
	sort.Strings(out)
	return out
}

var (
	intValue  = regexp.MustCompile(`^[+-]?[0-9]+$`)
	realValue = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	withUnit  = regexp.MustCompile(`^([+-]?[0-9]+(\.[0-9]+)?)\s*(B|kB|MB|GB|TB|us|ms|s|min|h|d)$`)
)

var memoryUnits = []string{"B", "kB", "MB", "GB", "TB"}
var timeUnits = []string{"us", "ms", "s", "min", "h", "d"}

// parseBool accepts PostgreSQL's boolean spellings.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t", "y":
		return true, true
	case "off", "false", "no", "0", "f", "n":
		return false, true
	}
	return false, false
}

// check validates value for setting k and returns the value to write.
func (k known) check(value string) (string, error) {
	v := strings.TrimSpace(value)
	switch k.kind {
	case kindBool:
		b, ok := parseBool(v)
		if !ok {
			return "", fmt.Errorf("%q is not a boolean (on or off)", value)
		}
		if b {
			return "on", nil
		}
		return "off", nil
	case kindEnum:
		l := strings.ToLower(v)
		for _, x := range k.values {
			if l == x {
				return l, nil
			}
		}
		return "", fmt.Errorf("%q is not one of %s", value, strings.Join(k.values, ", "))
	}
	if m := withUnit.FindStringSubmatch(v); m != nil && k.unit != "" {
		units := timeUnits
		if k.unit == "MB" {
			units = memoryUnits
		}
		for _, u := range units {
			if m[3] == u {
				return m[1] + m[3], nil // PostgreSQL converts and range-checks a value with a unit
			}
		}
		return "", fmt.Errorf("%q: unit %s does not fit (the setting is in %s)", value, m[3], k.unit)
	}
	ok := intValue.MatchString(v)
	if k.kind == kindReal {
		ok = realValue.MatchString(v)
	}
	if !ok {
		what := "an integer"
		if k.kind == kindReal {
			what = "a number"
		}
		if k.unit != "" {
			what += " (in " + k.unit + ", or with a unit)"
		}
		return "", fmt.Errorf("%q is not %s", value, what)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < k.min || f > k.max {
		return "", fmt.Errorf("%s is outside %s..%s", v, fmtNum(k.min), fmtNum(k.max))
	}
	return v, nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
