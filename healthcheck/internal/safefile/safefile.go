package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrTooLarge is returned when a file holds more than the allowed bytes.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is returned for a symlink, FIFO, socket, device or directory.
var ErrNotRegular = errors.New("not a regular file")

// Read returns the content of the regular file at path, at most max bytes.
// A final symlink is not followed (the error wraps ErrNotRegular), opening a
// FIFO never blocks, and a file larger than max, or one that grows past max
// while it is read, gives an error wrapping ErrTooLarge. os.ErrNotExist and
// os.ErrPermission stay testable with errors.Is.
func Read(path string, max int64) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("read %s: limit %d: want more than 0", path, max)
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) { // O_NOFOLLOW on a symlink
			return nil, fmt.Errorf("%s is a symbolic link: %w", path, ErrNotRegular)
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s: %w", path, describe(fi.Mode()), ErrNotRegular)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s has %d bytes, more than %d: %w", path, fi.Size(), max, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while being read: %w", path, max, ErrTooLarge)
	}
	return data, nil
}

// describe names a non-regular file type for error messages.
func describe(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "block device"
	case m&os.ModeSymlink != 0:
		return "symbolic link"
	default:
		return "special file (" + m.Type().String() + ")"
	}
}
