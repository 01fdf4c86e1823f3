package check

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Result is one component a check looked at.
type Result struct {
	Check   string `json:"check"`
	Healthy bool   `json:"healthy"`
	// Degraded: healthy, but something needs attention (a plugin said so:
	// a stale backup, failing WAL archiving). Never set when unhealthy.
	Degraded bool              `json:"degraded,omitempty"`
	Message  string            `json:"message"`
	Details  map[string]string `json:"details,omitempty"`
}

// Report is the verdict of one check.
type Report struct {
	Check    Name
	Healthy  bool
	Degraded bool // healthy, with a degraded component (see Result.Degraded)
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

// Text is the report as one line: "OK readiness: … 1.2ms",
// "DEGRADED readiness: … 1.2ms" (healthy, exit 0) or "FAIL readiness: …".
func (r Report) Text() string {
	if r.Healthy && r.Degraded {
		return fmt.Sprintf("DEGRADED %s: %s %s", r.Check, oneLine(r.Message), FormatDuration(r.Duration))
	}
	if r.Healthy {
		return fmt.Sprintf("OK %s: %s %s", r.Check, oneLine(r.Message), FormatDuration(r.Duration))
	}
	return fmt.Sprintf("FAIL %s: %s", r.Check, oneLine(r.Message))
}

// jsonReport is the JSON shape: {check, healthy, degraded, message, checks,
// duration_ms}.
type jsonReport struct {
	Check      Name     `json:"check"`
	Healthy    bool     `json:"healthy"`
	Degraded   bool     `json:"degraded,omitempty"`
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
		Degraded:   r.Degraded,
		Message:    r.Message,
		Checks:     checks,
		DurationMS: float64(r.Duration.Microseconds()) / 1000,
	})
	if err != nil { // cannot happen with these types; stay one valid line anyway
		return fmt.Sprintf(`{"check":%q,"healthy":false,"message":%q,"checks":[],"duration_ms":0}`, r.Check, err.Error())
	}
	return string(data)
}

// Strict makes a degraded report a failing one (--strict).
func (r Report) Strict() Report {
	if r.Healthy && r.Degraded {
		r.Healthy = false
		r.Message = "degraded (--strict): " + r.Message
	}
	return r
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
// ok, followed by "; degraded: name: message" for each degraded component;
// a failing one lists each failed component as "name: message", except the
// lead component, whose message stands bare.
func summarize(name Name, comps []Result, ok, lead string) Report {
	var failed, degraded []Result
	for _, c := range comps {
		switch {
		case !c.Healthy:
			failed = append(failed, c)
		case c.Degraded:
			degraded = append(degraded, c)
		}
	}
	rep := Report{Check: name, Healthy: len(failed) == 0, Degraded: len(failed) == 0 && len(degraded) > 0, Checks: comps}
	switch {
	case rep.Healthy:
		rep.Message = ok
		for _, c := range degraded {
			rep.Message += "; degraded: " + c.Check + ": " + c.Message
		}
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
