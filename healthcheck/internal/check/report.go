package check

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Result is one component a check looked at.
type Result struct {
	Check   string            `json:"check"`
	Healthy bool              `json:"healthy"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// Report is the verdict of one check.
type Report struct {
	Check    Name
	Healthy  bool
	Message  string
	Checks   []Result
	Duration time.Duration
}

// ExitCode is 0 when healthy and 1 otherwise; never anything else.
func (r Report) ExitCode() int {
	if r.Healthy {
		return 0
	}
	return 1
}

// Text is the report as one line: "OK readiness: … 1.2ms" or
// "FAIL readiness: …".
func (r Report) Text() string {
	if r.Healthy {
		return fmt.Sprintf("OK %s: %s %s", r.Check, oneLine(r.Message), FormatDuration(r.Duration))
	}
	return fmt.Sprintf("FAIL %s: %s", r.Check, oneLine(r.Message))
}

// jsonReport is the JSON shape: {check, healthy, message, checks, duration_ms}.
type jsonReport struct {
	Check      Name     `json:"check"`
	Healthy    bool     `json:"healthy"`
	Message    string   `json:"message"`
	Checks     []Result `json:"checks"`
	DurationMS float64  `json:"duration_ms"`
}

// JSON is the report as one JSON object on one line.
func (r Report) JSON() string {
	checks := r.Checks
	if checks == nil {
		checks = []Result{}
	}
	data, err := json.Marshal(jsonReport{
		Check:      r.Check,
		Healthy:    r.Healthy,
		Message:    r.Message,
		Checks:     checks,
		DurationMS: float64(r.Duration.Microseconds()) / 1000,
	})
	if err != nil { // cannot happen with these types; stay one valid line anyway
		return fmt.Sprintf(`{"check":%q,"healthy":false,"message":%q,"checks":[],"duration_ms":0}`, r.Check, err.Error())
	}
	return string(data)
}

// FormatDuration prints d in milliseconds with one decimal: "1.2ms".
func FormatDuration(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// oneLine folds line breaks so the verdict stays a single line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// summarize builds a report from components. A healthy report's message is
// ok; a failing one lists each failed component as "name: message", except
// the lead component, whose message stands bare.
func summarize(name Name, comps []Result, ok, lead string) Report {
	var failed []Result
	for _, c := range comps {
		if !c.Healthy {
			failed = append(failed, c)
		}
	}
	rep := Report{Check: name, Healthy: len(failed) == 0, Checks: comps}
	switch {
	case rep.Healthy:
		rep.Message = ok
	default:
		parts := make([]string, len(failed))
		for i, c := range failed {
			if c.Check == lead {
				parts[i] = c.Message
			} else {
				parts[i] = c.Check + ": " + c.Message
			}
		}
		rep.Message = strings.Join(parts, "; ")
	}
	return rep
}
