// Package proc answers questions about processes from Linux /proc without
// running any program: is a pid alive (zombies count as dead), when did it
// start, is it really a PostgreSQL server process, and which pid does a
// data directory's postmaster.pid name. It replaces the old container's
// `pgrep -f postgres`, which matched any command line containing the word.
package proc
