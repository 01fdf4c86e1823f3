package pluginhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pgdock/pgdock/entrypoint/internal/pgconf"
	"github.com/pgdock/pgdock/plugins/sdk"
)

// described is one plugin's name and description, the input of the merge
// and conflict rules below (pure functions, so they are tested alone).
type described struct {
	name string
	desc sdk.Description
}

// gucName is a PostgreSQL parameter name, optionally with one class prefix
// (citus.node_conninfo).
var gucName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$`)

// reservedSetting is set by the host from PreloadLibraries only.
const reservedSetting = "shared_preload_libraries"

// crossProblems finds conflicts between plugins' descriptions: the same
// setting with different values, more than one mode provider, and preload
// ordering conflicts.
func crossProblems(ds []described) []Problem {
	var settings []Setting
	var problems []Problem
	var modes []string
	for _, d := range ds {
		for _, s := range d.desc.Settings {
			settings = append(settings, Setting{Name: s.Name, Value: s.Value, Plugin: d.name})
		}
		if d.desc.ProvidesMode != "" {
			modes = append(modes, fmt.Sprintf("%s (mode %q)", d.name, d.desc.ProvidesMode))
		}
	}
	_, sp := mergeSettings(settings)
	problems = append(problems, sp...)
	if len(modes) > 1 {
		problems = append(problems, Problem{
			Plugin:  joinPluginNames(ds, func(d described) bool { return d.desc.ProvidesMode != "" }),
			Message: "more than one enabled plugin provides the run mode: " + strings.Join(modes, ", ") + "; enable only one of them",
		})
	}
	_, pp := mergePreload(ds)
	return append(problems, pp...)
}

func joinPluginNames(ds []described, keep func(described) bool) string {
	var names []string
	for _, d := range ds {
		if keep(d) {
			names = append(names, d.name)
		}
	}
	return strings.Join(names, ",")
}

// mergeSettings validates settings, removes duplicates (same name and
// value) and reports the same name with different values. GUC names are
// case-insensitive and returned lower-cased; the first occurrence keeps its
// place.
func mergeSettings(in []Setting) ([]Setting, []Problem) {
	var out []Setting
	var problems []Problem
	seen := map[string]Setting{}
	for _, s := range in {
		name := strings.ToLower(s.Name)
		switch {
		case !gucName.MatchString(s.Name):
			problems = append(problems, Problem{Plugin: s.Plugin, Message: fmt.Sprintf("setting name %q is not a valid PostgreSQL parameter name", s.Name)})
			continue
		case name == reservedSetting:
			problems = append(problems, Problem{Plugin: s.Plugin, Message: "sets shared_preload_libraries directly; declare preload libraries in Describe instead"})
			continue
		case strings.ContainsAny(s.Value, "\n\r\x00"):
			problems = append(problems, Problem{Plugin: s.Plugin, Message: fmt.Sprintf("value of setting %s contains a line break or NUL", name)})
			continue
		}
		if prev, ok := seen[name]; ok {
			if prev.Value != s.Value {
				problems = append(problems, Problem{
					Plugin:  pluginPair(prev.Plugin, s.Plugin),
					Message: fmt.Sprintf("conflicting values for setting %s: %s wants %q, %s wants %q", name, prev.Plugin, prev.Value, s.Plugin, s.Value),
				})
			}
			continue
		}
		s.Name = name
		seen[name] = s
		out = append(out, s)
	}
	return out, problems
}

func pluginPair(a, b string) string {
	if a == b {
		return a
	}
	return a + "," + b
}

// mergePreload returns shared_preload_libraries in load order: ascending
// Order, then plugin name, then declaration order; each library once. It
// reports a library declared with different orders and two libraries that
// both must load first.
func mergePreload(ds []described) ([]string, []Problem) {
	type entry struct {
		lib, plugin string
		order, idx  int
	}
	var entries []entry
	for _, d := range ds {
		for i, l := range d.desc.PreloadLibraries {
			entries = append(entries, entry{lib: l.Name, plugin: d.name, order: l.Order, idx: i})
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.order != b.order {
			return a.order < b.order
		}
		if a.plugin != b.plugin {
			return a.plugin < b.plugin
		}
		return a.idx < b.idx
	})
	var out []string
	var problems []Problem
	first := map[string]entry{} // library → its first (lowest order) entry
	var firstLoaders []entry
	for _, e := range entries {
		if e.lib == "" || strings.ContainsAny(e.lib, ", \t\n'\"") {
			problems = append(problems, Problem{Plugin: e.plugin, Message: fmt.Sprintf("preload library name %q is empty or contains a separator or quote", e.lib)})
			continue
		}
		if prev, ok := first[e.lib]; ok {
			if prev.order != e.order {
				problems = append(problems, Problem{
					Plugin:  pluginPair(prev.plugin, e.plugin),
					Message: fmt.Sprintf("preload library %s declared with different orders: %d by %s, %d by %s", e.lib, prev.order, prev.plugin, e.order, e.plugin),
				})
			}
			continue
		}
		first[e.lib] = e
		out = append(out, e.lib)
		if e.order <= sdk.PreloadFirst {
			firstLoaders = append(firstLoaders, e)
		}
	}
	if len(firstLoaders) > 1 {
		var names, plugins []string
		for _, e := range firstLoaders {
			names = append(names, fmt.Sprintf("%s (%s)", e.lib, e.plugin))
			plugins = append(plugins, e.plugin)
		}
		problems = append(problems, Problem{
			Plugin:  strings.Join(plugins, ","),
			Message: "more than one preload library must load first: " + strings.Join(names, ", "),
		})
	}
	return out, problems
}

// pluginFiles checks the files a plugin returned (checkFile) and places them
// in filesDir/<plugin>/, 0600 when the plugin gave no mode.
func pluginFiles(plugin, filesDir string, files []sdk.File) ([]File, error) {
	var out []File
	for _, f := range files {
		rel, err := checkFile(f)
		if err != nil {
			return nil, err
		}
		if filesDir == "" {
			return nil, errors.New("returned files but ConfigureInput.FilesDir is empty")
		}
		mode := f.Mode.Perm()
		if mode == 0 {
			mode = 0o600
		}
		out = append(out, File{Plugin: plugin, Path: filepath.Join(filesDir, plugin, rel), Content: f.Content, Mode: mode})
	}
	return out, nil
}

// checkFile validates a file a plugin asked for and returns its cleaned
// relative path and mode.
func checkFile(f sdk.File) (string, error) {
	p := f.Path
	if p == "" || path.IsAbs(p) || strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("file path %q must be relative and non-empty", p)
	}
	clean := path.Clean(p)
	if clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("file path %q leaves the plugin's files directory", p)
	}
	if f.Mode.Perm()&0o007 != 0 {
		return "", fmt.Errorf("file %s: mode %04o gives access to others; at most 0750 is allowed", clean, f.Mode.Perm())
	}
	return clean, nil
}

// checkHBARule validates a plugin's pg_hba rule with the validator of
// PG_HBA_ADD_<n> and returns its canonical line. The rule itself is not
// repeated in the error (options may hold secrets).
func checkHBARule(rule string) (string, error) {
	r, err := pgconf.ParseHBARule(rule)
	if err != nil {
		return "", fmt.Errorf("invalid pg_hba rule: %w", err)
	}
	return r.String(), nil
}

// sectionName is a section or job name: a short identifier.
var sectionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

// checkSection validates a contributed section: a target and a name, and
// content that is one JSON object.
func checkSection(s sdk.Section) error {
	if s.Target == "" || !sectionName.MatchString(s.Name) {
		return fmt.Errorf("configuration section %q for %q: a target plugin and a name of letters, digits, '_', '.', '-' are required", s.Name, s.Target)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(s.Content, &obj); err != nil || obj == nil {
		return fmt.Errorf("configuration section %q for %s: content must be a JSON object", s.Name, s.Target)
	}
	return nil
}

func findSection(in []Section, target, name string) *Section {
	for i := range in {
		if in[i].Target == target && in[i].Name == name {
			return &in[i]
		}
	}
	return nil
}

// checkJob validates a job's name, command and timeout (the schedule is
// parsed by the jobs package, which reports it naming plugin and job; an
// empty schedule is a job run on demand only).
func checkJob(j sdk.Job, earlier []Job, plugin string) error {
	if !sectionName.MatchString(j.Name) {
		return fmt.Errorf("job %q: the name must be letters, digits, '_', '.', '-' (at most 63)", j.Name)
	}
	if len(j.Argv) == 0 || j.Argv[0] == "" {
		return fmt.Errorf("job %s: no command", j.Name)
	}
	if j.TimeoutSeconds < 0 {
		return fmt.Errorf("job %s: negative timeout", j.Name)
	}
	for _, e := range earlier {
		if e.Plugin == plugin && e.Name == j.Name {
			return fmt.Errorf("job %s declared twice", j.Name)
		}
	}
	return nil
}
