package pgversion

import "fmt"

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
