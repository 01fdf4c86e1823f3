// Package jobs runs the jobs plugins declare (sdk.Job) on their cron
// schedules: each run through the reaper, in its own process group, as the
// user the entrypoint runs as (the server user after the privilege drop),
// one run at a time per job, primary-only jobs only while the node is the
// primary, with its start, end, duration, exit code and every output line
// logged, its timeout honoured, and every running job stopped (SIGTERM to
// its group, then SIGKILL) inside the stop budget. The last result of each
// job is kept for the plugin's health.
package jobs
