package check

import (
	"fmt"
	"strings"
)

// Name is a check's command-line name.
type Name string

// The checks. Readiness is the default.
const (
	Liveness      Name = "liveness"
	Readiness     Name = "readiness"
	Startup       Name = "startup"
	PostgreSQL    Name = "postgresql"
	Patroni       Name = "patroni"
	Leader        Name = "leader"
	Replica       Name = "replica"
	Disk          Name = "disk"
	Process       Name = "process"
	Comprehensive Name = "comprehensive"
)

// Names lists every check in help order.
func Names() []Name {
	return []Name{Liveness, Readiness, Startup, PostgreSQL, Patroni, Leader, Replica, Disk, Process, Comprehensive}
}

// ParseName returns the check called s.
func ParseName(s string) (Name, error) {
	for _, n := range Names() {
		if string(n) == s {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown check %q (want one of %s)", s, namesList())
}

func namesList() string {
	names := Names()
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}

// Describe is a one-line description of the check, for help.
func (n Name) Describe() string {
	switch n {
	case Liveness:
		return "entrypoint and postmaster processes are alive (no SQL)"
	case Readiness:
		return "phase running, PostgreSQL accepts connections, every plugin healthy (default)"
	case Startup:
		return "the entrypoint reached phase running and the postmaster lives (no SQL)"
	case PostgreSQL:
		return "phase running and PostgreSQL accepts connections (readiness without plugins)"
	case Patroni:
		return "patroni run mode: Patroni lives, its REST /health answers 200, the patroni plugin is healthy"
	case Leader:
		return "running and this node is the leader (primary, not in recovery)"
	case Replica:
		return "running and this node is a replica (standby in recovery)"
	case Disk:
		return "free space on PGDATA's filesystem (and pg_wal's) is above the floors"
	case Process:
		return "the postmaster is alive and really a postgres process"
	case Comprehensive:
		return "postgresql, patroni (if enabled), plugins, disk and process; names every failure"
	default:
		return ""
	}
}
