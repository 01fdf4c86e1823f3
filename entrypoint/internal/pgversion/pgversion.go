package pgversion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Major is a PostgreSQL major version: 13, 15, 17, 18 … From 10 on the major
// is one number; before, two (9.6 is held as 906), so compare majors with
// Before and AtLeast, not with < . The zero Major is unknown.
type Major int

// order maps a Major onto one scale: 9.6 → 906, 13 → 1300.
func (m Major) order() int {
	if m >= 900 && m < 1000 {
		return int(m)
	}
	return int(m) * 100
}

// Before reports whether m is an older major than o.
func (m Major) Before(o Major) bool { return m.order() < o.order() }

// AtLeast reports whether m is o or newer.
func (m Major) AtLeast(o Major) bool { return !m.Before(o) }

// Supported returns the majors pgdock builds images for, oldest first.
func Supported() []Major { return []Major{13, 15, 17, 18} }

// IsSupported reports whether pgdock builds an image for m.
func (m Major) IsSupported() bool {
	for _, s := range Supported() {
		if s == m {
			return true
		}
	}
	return false
}

// String is the major as PostgreSQL writes it in PG_VERSION: "15", "9.6".
func (m Major) String() string {
	switch {
	case m <= 0:
		return "unknown"
	case m >= 900 && m < 1000:
		return fmt.Sprintf("%d.%d", m/100, m%100)
	default:
		return strconv.Itoa(int(m))
	}
}

// Parse reads a major as PG_VERSION holds it ("15", "9.6"), or the start of
// a full version ("15.20", "18beta1", "18rc1", "19devel").
func Parse(s string) (Major, error) {
	s = strings.TrimSpace(s)
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a PostgreSQL version (expected e.g. 15 or 9.6)", s)
	}
	major, err := strconv.Atoi(m[1])
	if err != nil || major == 0 {
		return 0, fmt.Errorf("%q is not a PostgreSQL version (expected e.g. 15 or 9.6)", s)
	}
	if major >= 10 {
		return Major(major), nil
	}
	if m[2] == "" {
		return 0, fmt.Errorf("%q is not a PostgreSQL version: before 10 a major has two parts, e.g. 9.6", s)
	}
	minor, err := strconv.Atoi(m[2])
	if err != nil || minor > 99 {
		return 0, fmt.Errorf("%q is not a PostgreSQL version (expected e.g. 15 or 9.6)", s)
	}
	return Major(major*100 + minor), nil
}

// versionRE: a major, an optional second part, then the end, another
// part, or a pre-release suffix (devel, beta1, rc1).
var versionRE = regexp.MustCompile(`^(\d+)(?:\.(\d+))?(?:\.\d+)*(?:devel|beta\d*|rc\d*|alpha\d*)?$`)

// ErrNoVersion is FromDataDir's error for a directory without PG_VERSION
// (not a cluster, or not yet one).
var ErrNoVersion = errors.New("no PG_VERSION")

// FromDataDir returns the major that made the cluster in pgdata, from its
// PG_VERSION file. A missing or empty file is ErrNoVersion.
func FromDataDir(pgdata string) (Major, error) {
	p := filepath.Join(pgdata, "PG_VERSION")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("%s: %w", p, ErrNoVersion)
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", p, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, fmt.Errorf("%s is empty: %w", p, ErrNoVersion)
	}
	m, err := Parse(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}

// FromBinDir returns the major of the PostgreSQL programs in binDir: from
// the path when it is Debian's /usr/lib/postgresql/<major>/bin (no process
// started), else from `<binDir>/postgres --version`.
func FromBinDir(ctx context.Context, binDir string) (Major, error) {
	if filepath.Base(binDir) == "bin" && filepath.Base(filepath.Dir(filepath.Dir(binDir))) == "postgresql" {
		if m, err := Parse(filepath.Base(filepath.Dir(binDir))); err == nil {
			return m, nil
		}
	}
	return FromServer(ctx, filepath.Join(binDir, "postgres"))
}

// FromServer runs `postgres --version` and parses its answer, e.g.
// "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)".
func FromServer(ctx context.Context, postgres string) (Major, error) {
	out, err := exec.CommandContext(ctx, postgres, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", postgres, err)
	}
	return ParseServerVersion(string(out))
}

// ParseServerVersion reads the major from `postgres --version`'s output.
func ParseServerVersion(out string) (Major, error) {
	f := strings.Fields(out)
	for i, w := range f {
		if w == "(PostgreSQL)" && i+1 < len(f) {
			return Parse(f[i+1])
		}
	}
	return 0, fmt.Errorf("postgres --version printed %q, not \"postgres (PostgreSQL) <version>\"", strings.TrimSpace(out))
}
