package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// debianPackage names the Debian package providing a program, when known.
func debianPackage(program string) string {
	switch filepath.Base(program) {
	case "psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_isready", "createdb", "dropdb":
		return "postgresql-client"
	case "patroni", "patronictl":
		return "patroni"
	case "pgbackrest":
		return "pgbackrest"
	case "etcd":
		return "etcd-server"
	case "etcdctl":
		return "etcd-client"
	}
	return ""
}

// lookPath finds an executable like exec.LookPath, but in the given PATH
// value (the plugins' PATH, not the entrypoint's).
func lookPath(program, path string) (string, bool) {
	if strings.Contains(program, "/") {
		return program, isExecutable(program)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, program)
		if isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// requirementProblems checks the programs and extensions a plugin needs:
// programs in path, extensions' control files in extensionDir and, for a
// required extension the plugin also preloads, its library in libDir. The
// package named in a message has "<major>" replaced by PostgreSQL's major
// version (from extensionDir). Every problem is marked Missing.
func requirementProblems(name string, d sdk.Description, path, extensionDir, libDir string) []Problem {
	var problems []Problem
	enable := envName(name, "ENABLE")
	for _, r := range d.RequiredBinaries {
		if _, ok := lookPath(r.Name, path); ok {
			continue
		}
		pkg := r.Package
		if pkg == "" {
			pkg = debianPackage(r.Name)
		}
		msg := fmt.Sprintf("requires the program %q, which is not in PATH (%s)", r.Name, path)
		if pkg != "" {
			msg += fmt.Sprintf("; install the Debian package %q in the image", pkg)
		}
		problems = append(problems, Problem{Plugin: name, Var: enable, Message: msg, Missing: true})
	}
	if extensionDir == "" {
		return problems
	}
	major := filepath.Base(filepath.Dir(extensionDir))
	for _, r := range d.RequiredExtensions {
		pkg := strings.ReplaceAll(r.Package, "<major>", major)
		var missing []string
		control := filepath.Join(extensionDir, r.Name+".control")
		if _, err := os.Stat(control); err != nil {
			missing = append(missing, control)
		}
		if libDir != "" && preloads(d, r.Name) {
			lib := filepath.Join(libDir, r.Name+".so")
			if _, err := os.Stat(lib); err != nil {
				missing = append(missing, lib)
			}
		}
		if len(missing) == 0 {
			continue
		}
		msg := fmt.Sprintf("requires the PostgreSQL extension %q (%s not found)", r.Name, strings.Join(missing, ", "))
		if pkg != "" {
			msg += fmt.Sprintf("; install the package %q in the image", pkg)
		}
		problems = append(problems, Problem{Plugin: name, Var: enable, Message: msg, Missing: true})
	}
	return problems
}

// preloads reports whether the plugin preloads library lib.
func preloads(d sdk.Description, lib string) bool {
	for _, l := range d.PreloadLibraries {
		if l.Name == lib {
			return true
		}
	}
	return false
}
