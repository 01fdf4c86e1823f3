package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pgdock/pgdock/testrig/internal/budget"
	"github.com/pgdock/pgdock/testrig/internal/result"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnitFile writes the run as JUnit XML to path.
func WriteJUnitFile(path string, r result.Run) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	err = WriteJUnit(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteJUnit writes one testsuite per scenario, one testcase per check and
// one per budget ("budget/<metric> <limit>"). Skipped checks are <skipped>
// with their reason; a budget that was not measured is skipped too.
func WriteJUnit(w io.Writer, r result.Run) error {
	all := junitSuites{Name: "testrig", Time: secs(r.Took.Seconds())}
	for _, s := range r.Scenarios {
		su := junitSuite{Name: "testrig/" + s.Name, Time: secs(s.Took.Seconds()), Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05")}
		for _, c := range s.Checks {
			jc := junitCase{Name: c.Name, Classname: "testrig." + s.Name, Time: secs(c.Took.Seconds())}
			switch c.Status {
			case result.Fail:
				jc.Failure = &junitMessage{Message: firstLine(c.Message), Text: c.Message}
				su.Failures++
			case result.Skip:
				jc.Skipped = &junitMessage{Message: c.Message}
				su.Skipped++
			}
			su.Cases = append(su.Cases, jc)
		}
		for _, b := range s.Budgets {
			jc := junitCase{
				Name:      fmt.Sprintf("budget/%s %s", b.Budget.Metric, b.Budget),
				Classname: "testrig." + s.Name,
				Time:      secs(b.Worst.Seconds()),
			}
			switch b.Verdict {
			case budget.Missed:
				msg := fmt.Sprintf("%s took %s, budget %s", b.Budget.Metric, fmtDur(b.Worst), b.Budget)
				jc.Failure = &junitMessage{Message: msg, Text: msg}
				su.Failures++
			case budget.NotMeasured:
				jc.Skipped = &junitMessage{Message: "not measured (the scenario stopped before this step)"}
				su.Skipped++
			}
			su.Cases = append(su.Cases, jc)
		}
		su.Tests = len(su.Cases)
		all.Tests += su.Tests
		all.Failures += su.Failures
		all.Skipped += su.Skipped
		all.Suites = append(all.Suites, su)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(f float64) string { return fmt.Sprintf("%.3f", f) }

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
