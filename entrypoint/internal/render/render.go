package render

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pgdock/pgdock/entrypoint/internal/fsutil"
	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
)

// File names inside PGDATA.
const (
	ConfName = "pgdock.conf"
	HBAName  = "pgdock_hba.conf"
)

// includeLine is appended once to PGDATA/postgresql.conf.
const includeLine = "include_if_exists = '" + ConfName + "'"

// Param is one setting and where it came from.
type Param struct {
	Name   string
	Value  string
	Source string // env variable, "plugin <name>", or "pgdock default"
}

// Rule is one pg_hba line and where it came from.
type Rule struct {
	Line   string
	Source string
}

// Input is everything the managed files are made of.
type Input struct {
	PGData          string
	Port            int
	SocketDirs      []string
	ConfigDir       string  // PGCONFIG: postgresql.conf and pg_hba.conf there are included
	Defaults        []Param // pgdock's defaults (listen_addresses = '*')
	Plugin          []Param // plugin settings
	Preload         []string
	Env             []Param // POSTGRESQL_* settings
	TLSCert         string
	TLSKey          string
	TLSCA           string
	EnvHBA          []Rule // PG_HBA_ADD_<n>
	PluginHBA       []Rule
	WriteHBASetting bool // set hba_file to the managed file (false only for config render without PGDATA)
	// OmitDataHBA leaves PGDATA/pg_hba.conf out of the rules: in a run mode
	// that file may be the mode provider's own output (Patroni writes it),
	// which must not flow back into the rules it is rendered from.
	OmitDataHBA bool
}

const header = `# Managed by pgdock: regenerated from the environment on every start and reload.
# Do not edit. Set POSTGRESQL_* variables, use ALTER SYSTEM, or put settings
# in %s/postgresql.conf (included below).
`

// Conf renders pgdock.conf.
func Conf(in Input) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, header, in.ConfigDir)
	var errs []error
	line := func(p Param) {
		l, err := pgconf.FormatLine(p.Name, p.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Source, err))
			return
		}
		fmt.Fprintf(&b, "%s\t# %s\n", l, p.Source)
	}
	section := func(title string) { fmt.Fprintf(&b, "\n# %s\n", title) }

	section("pgdock")
	line(Param{Name: "port", Value: strconv.Itoa(in.Port), Source: "PGPORT"})
	line(Param{Name: "unix_socket_directories", Value: strings.Join(in.SocketDirs, ","), Source: "POSTGRESQL_UNIX_SOCKET_DIRECTORIES"})
	if in.WriteHBASetting {
		line(Param{Name: "hba_file", Value: filepath.Join(in.PGData, HBAName), Source: "pgdock (PG_HBA_ADD_*, " + filepath.Join(in.ConfigDir, "pg_hba.conf") + ", pg_hba.conf)"})
	}
	for _, p := range in.Defaults {
		line(p)
	}
	if len(in.Plugin) > 0 {
		section("plugins")
		for _, p := range in.Plugin {
			line(p)
		}
	}
	section("user file")
	userConf := filepath.Join(in.ConfigDir, "postgresql.conf")
	if _, err := os.Stat(userConf); err == nil {
		l, err := pgconf.FormatLine("include", userConf)
		if err != nil {
			errs = append(errs, fmt.Errorf("PGCONFIG: %w", err))
		}
		b.WriteString(l + "\n")
	} else {
		fmt.Fprintf(&b, "# (no %s; it is included when it exists at start or reload)\n", userConf)
	}
	if len(in.Env) > 0 {
		section("environment")
		for _, p := range in.Env {
			line(p)
		}
	}
	if len(in.Preload) > 0 {
		section("preload libraries (plugins first, in their declared order)")
		line(Param{Name: "shared_preload_libraries", Value: strings.Join(in.Preload, ","), Source: "plugins + POSTGRESQL_CONFIG_SHARED_PRELOAD_LIBRARIES"})
	}
	if in.TLSCert != "" {
		section("TLS")
		line(Param{Name: "ssl", Value: "on", Source: "POSTGRESQL_TLS_CERT_FILE"})
		line(Param{Name: "ssl_cert_file", Value: in.TLSCert, Source: "POSTGRESQL_TLS_CERT_FILE"})
		line(Param{Name: "ssl_key_file", Value: in.TLSKey, Source: "POSTGRESQL_TLS_KEY_FILE"})
		if in.TLSCA != "" {
			line(Param{Name: "ssl_ca_file", Value: in.TLSCA, Source: "POSTGRESQL_TLS_CA_FILE"})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b.Bytes(), nil
}

// HBA renders pgdock_hba.conf from the rules and the two files it includes.
func HBA(in Input) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Managed by pgdock: regenerated on every start and reload (SIGHUP to the container).\n")
	b.WriteString("# Do not edit. Edit pg_hba.conf in PGDATA or " + filepath.Join(in.ConfigDir, "pg_hba.conf") + ", or set PG_HBA_ADD_<n>.\n")
	for _, r := range in.EnvHBA {
		fmt.Fprintf(&b, "\n# %s\n%s\n", r.Source, r.Line)
	}
	if err := includeFile(&b, filepath.Join(in.ConfigDir, "pg_hba.conf")); err != nil {
		return nil, err
	}
	for _, r := range in.PluginHBA {
		fmt.Fprintf(&b, "\n# %s\n%s\n", r.Source, r.Line)
	}
	if in.OmitDataHBA {
		return b.Bytes(), nil
	}
	if err := includeFile(&b, filepath.Join(in.PGData, "pg_hba.conf")); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func includeFile(b *bytes.Buffer, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	fmt.Fprintf(b, "\n# ---- from %s ----\n", path)
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	return nil
}

// Apply writes both managed files (mode 0600) and makes sure postgresql.conf
// includes pgdock.conf as its last line. postgresql.conf is only appended to,
// once, atomically; everything else in it is left as it is.
func Apply(in Input) error {
	in.WriteHBASetting = true
	conf, err := Conf(in)
	if err != nil {
		return err
	}
	hba, err := HBA(in)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(in.PGData, HBAName), hba, 0o600); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(in.PGData, ConfName), conf, 0o600); err != nil {
		return err
	}
	return EnsureInclude(filepath.Join(in.PGData, "postgresql.conf"))
}

// EnsureInclude appends the include of pgdock.conf unless it is the last
// effective line already.
func EnsureInclude(confPath string) error {
	data, err := os.ReadFile(confPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", confPath, err)
	}
	if lastEffectiveLine(data) == includeLine {
		return nil
	}
	fi, err := os.Stat(confPath)
	if err != nil {
		return err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, "\n# Added by pgdock: the settings it manages from the environment. Keep this last.\n"+includeLine+"\n"...)
	return fsutil.WriteFileAtomic(confPath, data, fi.Mode().Perm())
}

func lastEffectiveLine(data []byte) string {
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		return l
	}
	return ""
}

// Settings returns every setting pgdock.conf sets, with its final value, in
// the order Conf writes them (a name set twice keeps its first place and its
// last value, as PostgreSQL reads the file). This is the merged
// configuration a mode provider receives (sdk.MergedConfig), so it carries
// the same values as direct-mode rendering; the user's PGCONFIG file is not
// part of it. Values are checked as Conf checks them.
func Settings(in Input) ([]Param, error) {
	var out []Param
	pos := map[string]int{}
	var errs []error
	add := func(p Param) {
		if _, err := pgconf.FormatLine(p.Name, p.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Source, err))
			return
		}
		name := strings.ToLower(p.Name)
		p.Name = name
		if i, ok := pos[name]; ok {
			out[i].Value, out[i].Source = p.Value, p.Source
			return
		}
		pos[name] = len(out)
		out = append(out, p)
	}
	add(Param{Name: "port", Value: strconv.Itoa(in.Port), Source: "PGPORT"})
	add(Param{Name: "unix_socket_directories", Value: strings.Join(in.SocketDirs, ","), Source: "POSTGRESQL_UNIX_SOCKET_DIRECTORIES"})
	if in.WriteHBASetting {
		add(Param{Name: "hba_file", Value: filepath.Join(in.PGData, HBAName), Source: "pgdock"})
	}
	for _, group := range [][]Param{in.Defaults, in.Plugin, in.Env} {
		for _, p := range group {
			add(p)
		}
	}
	if len(in.Preload) > 0 {
		add(Param{Name: "shared_preload_libraries", Value: strings.Join(in.Preload, ","), Source: "plugins + POSTGRESQL_CONFIG_SHARED_PRELOAD_LIBRARIES"})
	}
	if in.TLSCert != "" {
		add(Param{Name: "ssl", Value: "on", Source: "POSTGRESQL_TLS_CERT_FILE"})
		add(Param{Name: "ssl_cert_file", Value: in.TLSCert, Source: "POSTGRESQL_TLS_CERT_FILE"})
		add(Param{Name: "ssl_key_file", Value: in.TLSKey, Source: "POSTGRESQL_TLS_KEY_FILE"})
		if in.TLSCA != "" {
			add(Param{Name: "ssl_ca_file", Value: in.TLSCA, Source: "POSTGRESQL_TLS_CA_FILE"})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// HBARules returns the effective pg_hba lines of the managed file HBA
// renders, in order: PG_HBA_ADD_<n>, PGCONFIG/pg_hba.conf, the plugins'
// rules, PGDATA/pg_hba.conf unless in.OmitDataHBA (comments and blank
// lines left out).
func HBARules(in Input) ([]string, error) {
	data, err := HBA(in)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}
