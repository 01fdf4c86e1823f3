// Package reaper reaps orphaned zombie processes when the entrypoint is PID 1
// (or a child subreaper). It never steals the exit status of a child the
// entrypoint itself waits for: it only reaps a zombie that has stayed
// unreaped for a grace period, which a waiting exec.Cmd never lets happen.
package reaper
