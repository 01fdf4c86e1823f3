// Package safefile reads small files that someone else may have replaced
// with something hostile: a symlink (to /dev/zero, say), a FIFO with no
// writer, a device, a directory or a huge file. It opens without following a
// final symlink and without blocking, refuses anything but a regular file and
// reads at most a fixed number of bytes, so a read costs bounded time and
// memory whatever is at the path.
package safefile
