package pluginhost

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// maxChecksumList bounds SHA256SUMS: a few lines per plugin.
const maxChecksumList = 1 << 20

// procFD is where a verified binary is executed from: the child execs the
// file it inherited as descriptor 3, never the path again.
const procFD = "/proc/self/fd"

// pluginDir is the plugin directory opened once, without following a link,
// and checked: owned by root (or a trusted uid) and writable by nobody else.
// Every file in it is opened relative to that descriptor, also without
// following links, so a directory swapped in after the check is never used.
type pluginDir struct {
	path    string
	f       *os.File
	trusted []int // uids besides root that may own the directory and its files
}

// openPluginDir opens and checks the plugin directory.
func openPluginDir(path string, trusted []int) (*pluginDir, error) {
	// Without the cleaning, "link/" would follow the link despite O_NOFOLLOW.
	path = filepath.Clean(path)
	what := "plugin directory " + path + " (PGDOCK_PLUGIN_DIR)"
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, openError(what, path, err)
	}
	d := &pluginDir{path: path, f: os.NewFile(uintptr(fd), path), trusted: trusted}
	st, err := fstat(d.f)
	if err == nil {
		err = d.checkOwner(what, path, st)
	}
	if err != nil {
		d.f.Close()
		return nil, err
	}
	return d, nil
}

func (d *pluginDir) Close() error { return d.f.Close() }

// open opens name in the directory without following a link (and without
// blocking on a FIFO) and checks that it is a regular file with a trusted
// owner that nobody else may write.
func (d *pluginDir) open(name, what string) (*os.File, *syscall.Stat_t, error) {
	path := filepath.Join(d.path, name)
	what += " " + path
	fd, err := syscall.Openat(int(d.f.Fd()), name, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, openError(what, path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := fstat(f)
	if err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		err = fmt.Errorf("%s is not a regular file (%s); it must be the file itself", what, fileType(st.Mode))
	}
	if err == nil {
		err = d.checkOwner(what, path, st)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// checkOwner refuses a file or directory that anyone but root (or a trusted
// uid) owns or may write, naming the command that fixes it.
func (d *pluginDir) checkOwner(what, path string, st *syscall.Stat_t) error {
	if st.Uid != 0 && !slices.Contains(d.trusted, int(st.Uid)) {
		return fmt.Errorf("%s is owned by uid %d: only root%s may own what pgdock runs as a plugin, as its owner could change it; fix: chown root %s",
			what, st.Uid, d.trustedText(), path)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is writable by its group or others (mode %04o): they could change what pgdock runs as a plugin; fix: chmod go-w %s",
			what, st.Mode&0o7777, path)
	}
	return nil
}

func (d *pluginDir) trustedText() string {
	if len(d.trusted) == 0 {
		return ""
	}
	var s []string
	for _, u := range d.trusted {
		s = append(s, fmt.Sprint(u))
	}
	return " (or uid " + strings.Join(s, ", ") + ", which started pgdock-entrypoint)"
}

// readChecksums parses SHA256SUMS ("<64 hex>  <file>" or "<64 hex> *<file>",
// '#' comments and blank lines ignored) into file base name → digest.
func (d *pluginDir) readChecksums() (map[string][]byte, error) {
	path := filepath.Join(d.path, ChecksumFile)
	f, _, err := d.open(ChecksumFile, "checksum list")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("checksum list %s is missing: every plugin binary must be listed there (sha256sum format)", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChecksumList+1))
	if err != nil {
		return nil, fmt.Errorf("read checksum list %s: %w", path, err)
	}
	if len(data) > maxChecksumList {
		return nil, fmt.Errorf("checksum list %s is larger than %d bytes; it should list the plugin binaries only", path, maxChecksumList)
	}
	return parseChecksums(path, data)
}

func parseChecksums(path string, data []byte) (map[string][]byte, error) {
	sums := map[string][]byte{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexSum, file, ok := strings.Cut(line, " ")
		file = strings.TrimPrefix(strings.TrimLeft(file, " "), "*")
		sum, err := hex.DecodeString(hexSum)
		if !ok || err != nil || len(sum) != sha256.Size || file == "" {
			return nil, fmt.Errorf("%s line %d: want \"<sha256 hex>  <file name>\", got %q", path, n, line)
		}
		sums[filepath.Base(file)] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read checksum list %s: %w", path, err)
	}
	return sums, nil
}

// openVerified opens the binary of plugin name, checks it like every plugin
// file, and hashes the open file against its entry in sums. The returned
// file is what must be executed (see newProcess): those are the bytes that
// were verified, whatever happens to the path afterwards. Only root (or a
// trusted uid) can still write the file itself, and they are trusted.
func (d *pluginDir) openVerified(name string, sums map[string][]byte) (*os.File, error) {
	file := BinaryPrefix + name
	path := filepath.Join(d.path, file)
	want, ok := sums[file]
	if !ok {
		return nil, fmt.Errorf("%s has no entry in %s: refusing to run an unlisted plugin binary (add \"$(sha256sum %s)\" at image build)",
			path, filepath.Join(d.path, ChecksumFile), file)
	}
	f, st, err := d.open(file, "plugin binary")
	if err != nil {
		return nil, err
	}
	if st.Mode&0o111 == 0 {
		f.Close()
		return nil, fmt.Errorf("plugin binary %s is not executable (mode %04o); fix: chmod 0755 %s", path, st.Mode&0o7777, path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("checksum %s: %w", path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, want) {
		f.Close()
		return nil, fmt.Errorf("checksum mismatch for %s: %s lists %x, the file has %x; refusing to run it (rebuild the image or fix the list)",
			path, ChecksumFile, want, got)
	}
	return f, nil
}

// openError describes a failed open of a plugin file or directory.
func openError(what, path string, err error) error {
	// O_NOFOLLOW fails with ELOOP on a link, or with ENOTDIR on a link
	// opened with O_DIRECTORY.
	if fi, lerr := os.Lstat(path); errors.Is(err, syscall.ELOOP) || (lerr == nil && fi.Mode()&os.ModeSymlink != 0) {
		target, _ := os.Readlink(path)
		return fmt.Errorf("%s is a symbolic link (to %q): plugin files and their directory must not be links, or whoever controls the link target chooses what runs; fix: replace the link with the real file or directory", what, target)
	}
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%s is not a directory", what)
	}
	return fmt.Errorf("open %s: %w", what, err)
}

func fstat(f *os.File) (*syscall.Stat_t, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	return &st, nil
}

func fileType(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return "a directory"
	case syscall.S_IFIFO:
		return "a FIFO"
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return "a device"
	case syscall.S_IFSOCK:
		return "a socket"
	}
	return "not a regular file"
}

// checkProcFD makes sure verified binaries can be executed by descriptor.
func checkProcFD() error {
	if _, err := os.Stat(procFD); err != nil {
		return fmt.Errorf("plugins need /proc mounted: pgdock runs the verified plugin file through %s (%w)", procFD, err)
	}
	return nil
}
