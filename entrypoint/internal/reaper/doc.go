// Package reaper owns every wait of the process. One loop calls
// wait4(-1, WNOHANG) whenever SIGCHLD arrives (and after each start) and hands
// each exit status to whoever started that child through Start; zombies of
// processes the entrypoint did not start (orphans re-parented to PID 1 or to a
// child subreaper) are reaped and logged at debug. Because nothing else in the
// process calls wait, no exit status is ever stolen, and no timing guess is
// involved: a child is registered under the same lock the loop holds while it
// waits, so even a child that exits at once is handed to its starter.
package reaper
