// Package fsutil writes files so that a crash never leaves them half-written:
// a temporary file in the same directory, fsync, rename, fsync of the directory.
package fsutil
