package pgversion

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Facts are what pgdock does differently per major. Every per-major branch
// of the entrypoint and the plugins asks here instead of comparing numbers
// itself.
type Facts struct {
	Major Major
	// WALKeepParam is the server parameter that keeps WAL for standbys:
	// wal_keep_size (MB) from 13, wal_keep_segments (16 MB segments) before.
	WALKeepParam string
	// ChecksumsByDefault: initdb enables data checksums unless told
	// --no-data-checksums (from 18); before, only with --data-checksums.
	ChecksumsByDefault bool
	// PGData and Volume are the official image's layout: up to 17 PGDATA is
	// the volume, /var/lib/postgresql/data; from 18 the volume is
	// /var/lib/postgresql and PGDATA /var/lib/postgresql/<major>/docker,
	// so an older and a newer cluster can sit side by side in one volume
	// (what pg_upgrade --link needs: one file system).
	PGData string
	Volume string
}

// Facts returns m's facts.
func (m Major) Facts() Facts {
	f := Facts{
		Major:        m,
		WALKeepParam: "wal_keep_size",
		PGData:       "/var/lib/postgresql/data",
		Volume:       "/var/lib/postgresql/data",
	}
	if m.Before(13) {
		f.WALKeepParam = "wal_keep_segments"
	}
	if m.AtLeast(18) {
		f.ChecksumsByDefault = true
		f.PGData = fmt.Sprintf("/var/lib/postgresql/%s/docker", m)
		f.Volume = "/var/lib/postgresql"
	}
	return f
}

// WALKeep returns the parameter and value that keep at least mb megabytes
// of WAL for standbys on m (wal_keep_segments counts 16 MB segments,
// rounded up).
func (m Major) WALKeep(mb int) (param, value string) {
	f := m.Facts()
	if f.WALKeepParam == "wal_keep_segments" {
		return f.WALKeepParam, fmt.Sprint((mb + 15) / 16)
	}
	return f.WALKeepParam, fmt.Sprintf("%dMB", mb)
}

// LegacyPGData is PGDATA and the data volume of the official images up to
// 17, where compose files and `docker run -v` commands mount the data.
const LegacyPGData = "/var/lib/postgresql/data"

// LayoutError: the server uses the 18 layout (PGDATA below
// /var/lib/postgresql, the volume there), but a volume is mounted at
// LegacyPGData, which is not PGDATA: the cluster would be written to the
// image's anonymous volume and lost with the container.
type LayoutError struct {
	PGData string
	Major  Major
}

func (e *LayoutError) Error() string {
	f := e.Major.Facts()
	return fmt.Sprintf("a volume is mounted at %s, but PGDATA is %s (the PostgreSQL %s image's layout, as the official image's): "+
		"nothing would be written to that volume. Mount the volume at %s instead, or set PGDATA=%s to keep the old layout "+
		"(a cluster of an older major in that volume: docs/upgrades.md); nothing was changed",
		LegacyPGData, e.PGData, e.Major, f.Volume, LegacyPGData)
}

// CheckLayout refuses, for a server whose image keeps the volume above
// PGDATA (18 on), a volume mounted at LegacyPGData that is neither PGDATA
// nor inside it. isMount tells whether a path is a mount point.
func CheckLayout(pgdata string, server Major, isMount func(string) bool) error {
	f := server.Facts()
	if f.Volume == f.PGData {
		return nil // up to 17: the image itself declares LegacyPGData a volume
	}
	p := filepath.Clean(pgdata)
	if p == LegacyPGData || strings.HasPrefix(p, LegacyPGData+"/") {
		return nil
	}
	if !isMount(LegacyPGData) {
		return nil
	}
	return &LayoutError{PGData: pgdata, Major: server}
}
