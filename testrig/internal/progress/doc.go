// Package progress prints the rig's live progress: on a terminal a status line
// rewritten in place with the running step and its elapsed time, above which
// finished steps scroll; elsewhere (CI, files, pipes) plain timestamped lines.
package progress
