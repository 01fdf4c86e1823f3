// Package result is the rig's record of a run: scenarios, their checks
// (pass, fail or skip, each with a reason), budget verdicts and the timeline
// of where the time went. The report and JUnit writers read it.
package result
