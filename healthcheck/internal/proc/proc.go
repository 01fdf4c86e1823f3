package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pgdock/pgdock/healthcheck/internal/safefile"
)

// Root is where procfs is mounted.
const Root = "/proc"

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times. It is 100 on
// every Linux architecture Go supports; sysconf(_SC_CLK_TCK) would need cgo.
const clockTicks = 100

// Info is what /proc/<pid>/stat says about a process.
type Info struct {
	PID   int
	Comm  string // executable name, at most 15 bytes
	State byte   // R, S, D, Z, T, X, …
	PPID  int    // parent pid
	// StartTicks is the start time in clock ticks after boot.
	StartTicks uint64
}

// Zombie reports whether the process has exited and waits to be reaped.
func (i Info) Zombie() bool { return i.State == 'Z' || i.State == 'X' || i.State == 'x' }

// Stat reads /proc/<pid>/stat.
func Stat(pid int) (Info, error) {
	if pid <= 0 {
		return Info{}, fmt.Errorf("invalid pid %d", pid)
	}
	data, err := os.ReadFile(filepath.Join(Root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return Info{}, fmt.Errorf("process %d: %w", pid, err)
	}
	return parseStat(pid, data)
}

// parseStat decodes a stat line. comm is in parentheses and may itself hold
// spaces and parentheses, so fields are counted after the last ')'.
func parseStat(pid int, data []byte) (Info, error) {
	open, closing := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return Info{}, fmt.Errorf("process %d: malformed stat line", pid)
	}
	fields := strings.Fields(string(data[closing+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return Info{}, fmt.Errorf("process %d: malformed stat line", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return Info{}, fmt.Errorf("process %d: malformed start time: %w", pid, err)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return Info{}, fmt.Errorf("process %d: malformed parent pid: %w", pid, err)
	}
	return Info{PID: pid, Comm: string(data[open+1 : closing]), State: fields[0][0], PPID: ppid, StartTicks: start}, nil
}

// Alive reports whether pid names a running (not zombie) process. Where
// /proc cannot tell (not mounted, hidepid), kill(pid, 0) decides.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	info, err := Stat(pid)
	if err == nil {
		return !info.Zombie()
	}
	if errors.Is(err, os.ErrNotExist) {
		if _, rootErr := os.Stat(filepath.Join(Root, "self")); rootErr == nil {
			return false // procfs works and the pid is not there
		}
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// StartTime is when pid started, to within a second (the boot time in
// /proc/stat has second resolution).
func StartTime(pid int) (time.Time, error) {
	info, err := Stat(pid)
	if err != nil {
		return time.Time{}, err
	}
	boot, err := bootTime()
	if err != nil {
		return time.Time{}, err
	}
	return boot.Add(time.Duration(info.StartTicks) * time.Second / clockTicks), nil
}

func bootTime() (time.Time, error) {
	data, err := os.ReadFile(filepath.Join(Root, "stat"))
	if err != nil {
		return time.Time{}, fmt.Errorf("boot time: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("boot time: %w", err)
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, errors.New("boot time: no btime in /proc/stat")
}

// isPostgresName reports whether name is the executable name of a
// PostgreSQL server process.
func isPostgresName(name string) bool { return name == "postgres" || name == "postmaster" }

// IsPostgres reports whether pid is a live PostgreSQL server process: its
// executable name (comm), or the base name of argv[0] when comm was changed,
// is postgres or postmaster. It returns the name it found, for messages.
func IsPostgres(pid int) (bool, string, error) {
	info, err := Stat(pid)
	if err != nil {
		return false, "", err
	}
	if info.Zombie() {
		return false, info.Comm, fmt.Errorf("process %d (%s) is a zombie", pid, info.Comm)
	}
	if isPostgresName(info.Comm) {
		return true, info.Comm, nil
	}
	cmdline, err := os.ReadFile(filepath.Join(Root, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false, info.Comm, fmt.Errorf("process %d: %w", pid, err)
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	name := filepath.Base(string(argv0))
	return isPostgresName(name), info.Comm, nil
}

// PostmasterPIDFile is the file PostgreSQL writes into its data directory.
const PostmasterPIDFile = "postmaster.pid"

// MaxPostmasterPIDFileSize bounds postmaster.pid (PostgreSQL writes a few
// hundred bytes).
const MaxPostmasterPIDFileSize = 64 << 10

// ReadPostmasterPIDFile returns the content of <pgdata>/postmaster.pid, read
// without following a symlink, from a regular file of bounded size only.
func ReadPostmasterPIDFile(pgdata string) ([]byte, error) {
	data, err := safefile.Read(filepath.Join(pgdata, PostmasterPIDFile), MaxPostmasterPIDFileSize)
	if err != nil {
		return nil, fmt.Errorf("read postmaster pid: %w", err)
	}
	return data, nil
}

// ReadPostmasterPID returns the pid on the first line of
// <pgdata>/postmaster.pid. The pid may be stale: check it with IsPostgres.
func ReadPostmasterPID(pgdata string) (int, error) {
	path := filepath.Join(pgdata, PostmasterPIDFile)
	data, err := ReadPostmasterPIDFile(pgdata)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: first line %q is not a pid", path, first)
	}
	return pid, nil
}

// Postmaster status words on line 8 of postmaster.pid (PostgreSQL's
// PM_STATUS_*; pg_ctl start -w waits for ready or standby).
const (
	StatusStarting = "starting" // starting up, or in (crash) recovery
	StatusStopping = "stopping" // shutdown requested
	StatusReady    = "ready"    // accepting connections
	StatusStandby  = "standby"  // hot standby: accepting read-only connections
)

// PIDFile is what postmaster.pid says about the running server.
type PIDFile struct {
	PID     int
	DataDir string
	Port    int
	// Status is one of the Status* words, or "" when the postmaster has not
	// written it yet.
	Status string
}

// ReadPIDFile reads and parses <pgdata>/postmaster.pid.
func ReadPIDFile(pgdata string) (PIDFile, error) {
	data, err := ReadPostmasterPIDFile(pgdata)
	if err != nil {
		return PIDFile{}, err
	}
	return ParsePIDFile(data)
}

// ParsePIDFile parses the content of postmaster.pid: pid, data directory,
// start time, port, socket directory, listen address, shared memory key and
// status, one per line (a postmaster that is still starting may have
// written fewer lines).
func ParsePIDFile(data []byte) (PIDFile, error) {
	lines := strings.Split(string(data), "\n")
	var f PIDFile
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		return f, fmt.Errorf("postmaster.pid: first line %q is not a pid", lines[0])
	}
	f.PID = pid
	if len(lines) > 1 {
		f.DataDir = lines[1]
	}
	if len(lines) > 3 {
		f.Port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 7 {
		f.Status = strings.TrimSpace(lines[7])
	}
	return f, nil
}

// Children returns the pids of ppid's live children, from a scan of /proc
// (CONFIG_PROC_CHILDREN's children file is not everywhere).
func Children(ppid int) ([]int, error) {
	entries, err := os.ReadDir(Root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == ppid {
			continue
		}
		info, err := Stat(pid)
		if err == nil && info.PPID == ppid && !info.Zombie() {
			kids = append(kids, pid)
		}
	}
	return kids, nil
}

// Title returns a process's command line with its NUL separators as
// spaces: for a PostgreSQL process, its process title.
func Title(pid int) (string, error) {
	data, err := safefile.Read(filepath.Join(Root, strconv.Itoa(pid), "cmdline"), 64<<10)
	if err != nil {
		return "", fmt.Errorf("process %d: %w", pid, err)
	}
	return strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " ")), nil
}
