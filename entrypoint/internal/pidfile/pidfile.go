package pidfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Status values written by the postmaster (PM_STATUS_* in pidfile.h).
const (
	StatusStarting = "starting"
	StatusStopping = "stopping"
	StatusReady    = "ready"
	StatusStandby  = "standby"
)

// Info is the parsed content of postmaster.pid.
type Info struct {
	PID       int
	DataDir   string
	Port      int
	SocketDir string
	Listen    string
	Status    string // empty when the postmaster has not written it yet
}

// Ready reports whether the postmaster accepts connections (primary or hot standby).
func (i Info) Ready() bool { return i.Status == StatusReady || i.Status == StatusStandby }

// Read parses <pgdata>/postmaster.pid.
func Read(pgdata string) (Info, error) {
	data, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return Info{}, err
	}
	return Parse(string(data))
}

// Parse parses the file's content. Lines: pid, datadir, start time, port,
// socket dir, listen address, shmem key, status.
func Parse(s string) (Info, error) {
	lines := strings.Split(s, "\n")
	if len(lines) < 1 || strings.TrimSpace(lines[0]) == "" {
		return Info{}, fmt.Errorf("postmaster.pid is empty")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return Info{}, fmt.Errorf("postmaster.pid: bad pid line %q", lines[0])
	}
	get := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	info := Info{PID: pid, DataDir: get(1), SocketDir: get(4), Listen: get(5), Status: get(7)}
	info.Port, _ = strconv.Atoi(get(3))
	return info, nil
}
