package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Measure statuses.
const (
	StatusMeasured    = "measured"
	StatusNotMeasured = "not measured yet" // the feature is not wired (yet)
	StatusError       = "error"
)

// Goal bases: which number a goal limits.
const (
	BasisDiffPct   = "difference_pct" // (pgdock - reference) / reference, medians, in %
	BasisDiffAbs   = "difference_abs" // pgdock - reference, medians, in the measure's unit
	BasisPgdockMed = "pgdock_median"  // the pgdock median
	BasisPgdockMax = "pgdock_max"     // the largest pgdock sample
)

// How the table shows a difference.
const (
	DiffShownPercent = "pct" // in % of the reference (and in the unit)
	DiffShownAbs     = "abs" // in the measure's unit
)

// Units.
const (
	unitMs  = "ms"
	unitMiB = "MiB" // 1024 kB, as /proc and GNU time report kB
)

// Table cells.
const (
	notApplicable  = "n/a"
	goalNone       = "-"
	metNotJudged   = "-"
	metNotMeasured = "not measured"
	metError       = "ERROR"
	metYes, metNo  = "yes", "NO"
)

// Side is one side of a comparison.
type Side struct {
	Label string `json:"label"`
	Summary
	// Parts breaks the total down (e.g. initdb, temporary server start).
	Parts map[string]Summary `json:"parts,omitempty"`
}

// Difference compares the medians of pgdock and the reference.
type Difference struct {
	Abs   float64 `json:"abs"`             // pgdock - reference, in the measure's unit
	Pct   float64 `json:"pct"`             // Abs relative to the reference, in %
	Basis string  `json:"basis"`           // "median"
	Shown string  `json:"shown,omitempty"` // pct or abs: what the table prints
}

// Goal is a budget from DESIGN.md.
type Goal struct {
	Text  string  `json:"text"`  // as printed, e.g. "<= 5 %"
	Basis string  `json:"basis"` // one of the Basis* constants
	Limit float64 `json:"limit"` // the number must be at most this
}

// Measure is one row of the report.
type Measure struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Unit       string      `json:"unit"`
	Status     string      `json:"status"`
	Note       string      `json:"note,omitempty"`
	Pgdock     *Side       `json:"pgdock,omitempty"`
	Reference  *Side       `json:"reference,omitempty"`
	Difference *Difference `json:"difference,omitempty"`
	Goal       *Goal       `json:"goal,omitempty"`
	Met        *bool       `json:"met"` // null without a goal or without numbers
	ShowP95    bool        `json:"-"`   // latency: the table prints p95 too
}

// Environment are the facts a result depends on.
type Environment struct {
	Hostname          string `json:"hostname"`
	CPUs              int    `json:"cpus"`
	Kernel            string `json:"kernel"`
	GoVersion         string `json:"go_version"`
	PostgreSQL        string `json:"postgresql"`
	PostgreSQLBin     string `json:"postgresql_bin"`
	Commit            string `json:"commit"`             // git describe --always --dirty
	EntrypointVersion string `json:"entrypoint_version"` // what the measured binary says
	User              string `json:"user"`               // OS user the servers run as
	WorkDir           string `json:"work_dir"`           // where data directories were created
	Filesystem        string `json:"filesystem"`         // of WorkDir
}

// Report is the whole result, as written to JSON.
type Report struct {
	StartedAt   time.Time   `json:"started_at"`
	FinishedAt  time.Time   `json:"finished_at"`
	DurationS   float64     `json:"duration_s"`
	Environment Environment `json:"environment"`
	Settings    Settings    `json:"settings"`
	Measures    []Measure   `json:"measures"`
}

// Settings are the knobs of a run, recorded with the results.
type Settings struct {
	Runs         int     `json:"runs"`          // first boots per side
	RestartRuns  int     `json:"restart_runs"`  // restarts (and idle stops) per side
	LoadRuns     int     `json:"load_runs"`     // stops under load per side
	SleepRuns    int     `json:"sleep_runs"`    // sleep-mode stops
	PluginRuns   int     `json:"plugin_runs"`   // plugin host starts
	HealthRuns   int     `json:"health_runs"`   // healthcheck and pg_isready invocations each
	SettleMs     float64 `json:"settle_ms"`     // idle time after ready before RSS and stop
	LoadMs       float64 `json:"load_ms"`       // load time before SIGTERM
	LoadClients  int     `json:"load_clients"`  // pgbench clients
	LoadScale    int     `json:"load_scale"`    // pgbench scale factor
	ListenAddr   string  `json:"listen_addr"`   // TCP listen address of every server
	PgbenchFlags string  `json:"pgbench_flags"` // the load

	Suites           []string `json:"suites,omitempty"`   // empty: all
	PatroniRuns      int      `json:"patroni_runs"`       // clusters per Patroni timing
	BackupScale      int      `json:"backup_scale"`       // pgbench -i -s of the backup database
	BackupRuns       int      `json:"backup_runs"`        // backups and restores per side
	BackupProcessMax int      `json:"backup_process_max"` // pgBackRest process-max
	BackupCompress   string   `json:"backup_compress"`    // pgBackRest compress-type
}

// finish computes the difference and judges the goal from the summaries.
func (m *Measure) finish(diffShown string) {
	m.Met = nil
	if m.Status != StatusMeasured || m.Pgdock == nil || m.Pgdock.N == 0 {
		return
	}
	if m.Reference != nil && m.Reference.N > 0 {
		abs := m.Pgdock.Median - m.Reference.Median
		pct := math.NaN()
		if m.Reference.Median != 0 {
			pct = abs / m.Reference.Median * 100
		}
		m.Difference = &Difference{Abs: abs, Pct: pct, Basis: "median", Shown: diffShown}
	}
	if m.Goal == nil {
		return
	}
	var v float64
	switch m.Goal.Basis {
	case BasisDiffPct, BasisDiffAbs:
		if m.Difference == nil {
			return
		}
		v = m.Difference.Abs
		if m.Goal.Basis == BasisDiffPct {
			v = m.Difference.Pct
		}
	case BasisPgdockMed:
		v = m.Pgdock.Median
	case BasisPgdockMax:
		v = m.Pgdock.Max
	default:
		return
	}
	met := !math.IsNaN(v) && v <= m.Goal.Limit
	m.Met = &met
}

// MarshalJSON keeps NaN (a difference against a zero reference) out of the
// JSON, which cannot represent it.
func (d Difference) MarshalJSON() ([]byte, error) {
	type plain Difference
	if math.IsNaN(d.Pct) {
		d.Pct = 0
	}
	return json.Marshal(plain(d))
}

// TableHeader is the header of the printed table.
func TableHeader() []string {
	return []string{"measure", "pgdock", "bare/reference", "difference", "goal", "met?"}
}

// TableRows turns the measures into table cells.
func TableRows(ms []Measure) [][]string {
	rows := make([][]string, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, tableRow(m))
	}
	return rows
}

func tableRow(m Measure) []string {
	goal := goalNone
	if m.Goal != nil {
		goal = m.Goal.Text
	}
	switch m.Status {
	case StatusNotMeasured:
		return []string{m.Name, StatusNotMeasured, sideCell(m.Reference, m), notApplicable, goal, metNotMeasured}
	case StatusError:
		return []string{m.Name, "error (see notes)", notApplicable, notApplicable, goal, metError}
	}
	diff := notApplicable
	if d := m.Difference; d != nil {
		if d.Shown == DiffShownPercent {
			diff = FormatSigned(d.Pct) + " %"
			if !math.IsNaN(d.Abs) {
				diff += " (" + FormatSigned(d.Abs) + " " + m.Unit + ")"
			}
		} else {
			diff = FormatSigned(d.Abs) + " " + m.Unit
		}
	}
	met := metNotJudged
	if m.Met != nil {
		met = metNo
		if *m.Met {
			met = metYes
		}
	}
	return []string{m.Name, sideCell(m.Pgdock, m), sideCell(m.Reference, m), diff, goal, met}
}

func sideCell(s *Side, m Measure) string {
	if s == nil || s.N == 0 {
		return notApplicable
	}
	c := FormatValue(s.Median) + " " + m.Unit
	if m.ShowP95 {
		c += " (p95 " + FormatValue(s.P95) + ")"
	}
	if m.Goal != nil && m.Goal.Basis == BasisPgdockMax && s == m.Pgdock {
		c += " (max " + FormatValue(s.Max) + ")"
	}
	return c
}

// WriteTable prints the environment, the table and the notes.
func WriteTable(w io.Writer, r *Report) error {
	e := r.Environment
	if _, err := fmt.Fprintf(w, "pgdock bench %s  (%s, %.0f s)\n"+
		"  commit %s, entrypoint %s, %s\n"+
		"  %d CPUs, kernel %s, %s, servers run as %q\n"+
		"  data under %s (%s)\n"+
		"  medians of repeated runs (first boot n=%d, restart n=%d, load n=%d, sleep n=%d, plugin n=%d, health n=%d;\n"+
		"  patroni clusters n=%d per timing; backups n=%d per side of pgbench -i -s %d, pgBackRest process-max %d, compress-type %s)\n"+
		"  suites: %s\n\n",
		r.StartedAt.Format("2006-01-02 15:04 MST"), e.Hostname, r.DurationS,
		e.Commit, e.EntrypointVersion, e.GoVersion,
		e.CPUs, e.Kernel, e.PostgreSQL, e.User,
		e.WorkDir, e.Filesystem,
		r.Settings.Runs, r.Settings.RestartRuns, r.Settings.LoadRuns, r.Settings.SleepRuns, r.Settings.PluginRuns, r.Settings.HealthRuns,
		r.Settings.PatroniRuns, r.Settings.BackupRuns, r.Settings.BackupScale, r.Settings.BackupProcessMax, r.Settings.BackupCompress,
		suitesText(r.Settings.Suites),
	); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if err := RenderTable(w, TableHeader(), TableRows(r.Measures)); err != nil {
		return err
	}
	first := true
	for _, m := range r.Measures {
		if m.Note == "" {
			continue
		}
		if first {
			if _, err := fmt.Fprintln(w, "\nNotes:"); err != nil {
				return fmt.Errorf("write notes: %w", err)
			}
			first = false
		}
		if _, err := fmt.Fprintf(w, "  - %s: %s\n", m.Name, m.Note); err != nil {
			return fmt.Errorf("write notes: %w", err)
		}
	}
	return nil
}

func suitesText(s []string) string {
	if len(s) == 0 {
		return strings.Join(AllSuites, ", ")
	}
	return strings.Join(s, ", ")
}

// WriteJSON writes the report to path (creating its directory), atomically.
func WriteJSON(path string, r *Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create results directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// memoryGoal is a memory budget of mb decimal megabytes (the issues state
// budgets in MB), judged on the largest sample, which is reported in MiB.
func memoryGoal(mb float64) *Goal {
	return &Goal{Text: fmt.Sprintf("<= %g MB", mb), Basis: BasisPgdockMax, Limit: mb * 1e6 / (1 << 20)}
}
