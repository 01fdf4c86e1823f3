// Package report writes a rig run as a Markdown report with one SVG timeline
// per scenario beside it, as JUnit XML for CI, and as the summary table
// printed at the end of a run.
package report
