package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgdock/pgdock/testrig/internal/result"
)

// WriteFiles writes the Markdown report to path and one SVG timeline per
// scenario beside it (<report name>-<scenario>.svg), linked from the report.
func WriteFiles(path string, r result.Run) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	svgs := map[string]string{}
	for _, s := range r.Scenarios {
		name := base + "-" + s.Name + ".svg"
		f, err := os.Create(filepath.Join(filepath.Dir(path), name))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		err = WriteSVG(f, s)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		svgs[s.Name] = name
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	err = WriteMarkdown(f, r, svgs)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return nil
}

// WriteMarkdown writes the report; svgs maps a scenario to its timeline file
// (relative to the report), and a scenario without one gets no image.
func WriteMarkdown(w io.Writer, r result.Run, svgs map[string]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# testrig report\n\n")
	fmt.Fprintf(&b, "Run `%s`, started %s, took %s. %s.", r.ID, r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), fmtDur(r.Took), r.Engine)
	if r.Host != "" {
		fmt.Fprintf(&b, " Host: %s.", r.Host)
	}
	b.WriteString("\n\n")
	if len(r.Images) > 0 {
		b.WriteString("Images: " + strings.Join(r.Images, "; ") + ".\n\n")
	}
	b.WriteString("## Summary\n\n")
	b.WriteString(Summary(r, true))
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "\n## %s — %s\n\n", s.Name, s.Status())
		if s.Description != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Description)
		}
		if f, ok := svgs[s.Name]; ok {
			fmt.Fprintf(&b, "![%s timeline](%s)\n\n", s.Name, f)
		}
		b.WriteString("| Check | Result | Time | Detail |\n|---|---|---|---|\n")
		for _, c := range s.Checks {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(c.Name), c.Status, fmtDur(c.Took), cell(c.Message))
		}
		if len(s.Budgets) > 0 {
			b.WriteString("\n| Metric | Budget | Measured (worst) | Times measured | Verdict |\n|---|---|---|---|---|\n")
			for _, c := range s.Budgets {
				measured := "—"
				if c.Count > 0 {
					measured = fmtDur(c.Worst)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %d | %s |\n", c.Budget.Metric, cell(c.Budget.String()), measured, c.Count, c.Verdict)
			}
		}
		if len(s.Timeline.Spans) > 0 {
			b.WriteString("\n<details><summary>Timeline as a table</summary>\n\n| Lane | Phase | From | Took |\n|---|---|---|---|\n")
			for _, sp := range s.Timeline.Spans {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(sp.Lane), cell(sp.Name), fmtDur(sp.Start), fmtDur(sp.End-sp.Start))
			}
			b.WriteString("\n</details>\n")
		}
		if len(s.Measurements) > 0 {
			b.WriteString("\nAll measurements: ")
			parts := make([]string, len(s.Measurements))
			for i, m := range s.Measurements {
				parts[i] = fmt.Sprintf("%s %s", m.Metric, fmtDur(m.Took))
			}
			b.WriteString(strings.Join(parts, ", "))
			b.WriteString(".\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the table printed at the end of a run (Markdown when md, else
// aligned plain text): per scenario its result, check counts and each budget
// with the worst measured time.
func Summary(r result.Run, md bool) string {
	type row struct{ scen, status, checks, metric, budget, measured, verdict string }
	var rows []row
	for _, s := range r.Scenarios {
		checks := fmt.Sprintf("%d pass, %d fail, %d skip", s.Count(result.Pass), s.Count(result.Fail), s.Count(result.Skip))
		first := row{scen: s.Name, status: s.Status().String(), checks: checks}
		if len(s.Budgets) == 0 {
			rows = append(rows, first)
		}
		for i, c := range s.Budgets {
			rw := row{metric: c.Budget.Metric, budget: c.Budget.String(), measured: "—", verdict: c.Verdict.String()}
			if c.Count > 0 {
				rw.measured = fmtDur(c.Worst)
			}
			if i == 0 {
				rw.scen, rw.status, rw.checks = first.scen, first.status, first.checks
			}
			rows = append(rows, rw)
		}
		for _, c := range s.Checks {
			if c.Status == result.Skip {
				rows = append(rows, row{checks: "skipped: " + c.Name + " — " + c.Message})
			}
		}
	}
	head := row{"scenario", "result", "checks", "metric", "budget", "measured", "verdict"}
	cols := func(r row) []string {
		return []string{r.scen, r.status, r.checks, r.metric, r.budget, r.measured, r.verdict}
	}
	var b strings.Builder
	if md {
		b.WriteString("| " + strings.Join(cols(head), " | ") + " |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, r := range rows {
			c := cols(r)
			for i := range c {
				c[i] = cell(c[i])
			}
			b.WriteString("| " + strings.Join(c, " | ") + " |\n")
		}
		return b.String()
	}
	width := make([]int, 7)
	for _, r := range append([]row{head}, rows...) {
		for i, c := range cols(r) {
			if strings.HasPrefix(c, "skipped: ") {
				continue // long skip lines run across the table
			}
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for _, r := range append([]row{head}, rows...) {
		var line strings.Builder
		for i, c := range cols(r) {
			line.WriteString(c)
			if i < 6 {
				line.WriteString(strings.Repeat(" ", max(width[i]-len([]rune(c)), 0)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	return b.String()
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
