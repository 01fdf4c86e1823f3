package scenario

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// brStanza is one stanza of pgBackRest's `info --output=json`, the fields
// the backup scenario reads.
type brStanza struct {
	Name   string `json:"name"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Backup []brBackup `json:"backup"`
}

// brBackup is one backup in a stanza.
type brBackup struct {
	Label     string `json:"label"`
	Type      string `json:"type"` // full, diff, incr
	Prior     string `json:"prior"`
	Timestamp struct {
		Start int64 `json:"start"`
		Stop  int64 `json:"stop"`
	} `json:"timestamp"`
}

// parseBackupInfo reads `backup info --format json`: pgBackRest's JSON
// array of stanzas. The output may carry log lines around it (exec merges
// stderr), so the first line that parses as the array is taken.
func parseBackupInfo(out string) ([]brStanza, error) {
	var firstErr error
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[") {
			continue
		}
		var s []brStanza
		err := json.Unmarshal([]byte(line), &s)
		if err == nil {
			return s, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	// Pretty-printed: the whole output from the first '['.
	if i := strings.Index(out, "["); i >= 0 {
		var s []brStanza
		if err := json.Unmarshal([]byte(out[i:]), &s); err == nil {
			return s, nil
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no JSON array")
	}
	return nil, fmt.Errorf("backup info --format json: %w in %q", firstErr, lastLines(out, 5))
}

// allBackups lists every stanza's backups, in the order pgBackRest lists
// them (oldest first).
func allBackups(s []brStanza) []brBackup {
	var out []brBackup
	for _, st := range s {
		out = append(out, st.Backup...)
	}
	return out
}

// newBackups lists the backups whose labels are not in known.
func newBackups(s []brStanza, known []string) []brBackup {
	var out []brBackup
	for _, b := range allBackups(s) {
		if !slices.Contains(known, b.Label) {
			out = append(out, b)
		}
	}
	return out
}

func labelsOf(bs []brBackup) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Label + " (" + b.Type + ")"
	}
	return out
}

// backupJob returns the first of a container's processes (their command
// lines) that is a backup running: pgBackRest's backup command, or
// pgdock-entrypoint's (not `backup info`). "" when none is.
func backupJob(processes []string) string {
	for _, p := range processes {
		f := strings.Fields(p)
		if len(f) < 2 {
			continue
		}
		switch path.Base(f[0]) {
		case "pgbackrest":
			if slices.Contains(f[1:], "backup") {
				return p
			}
		case "pgdock-entrypoint":
			if f[1] == "backup" && !slices.Contains(f[2:], "info") {
				return p
			}
		}
	}
	return ""
}
