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

// requirementProblems checks the programs and extensions a plugin needs.
func requirementProblems(name string, d sdk.Description, path, extensionDir string) []Problem {
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
		problems = append(problems, Problem{Plugin: name, Var: enable, Message: msg})
	}
	if extensionDir == "" {
		return problems
	}
	for _, r := range d.RequiredExtensions {
		control := filepath.Join(extensionDir, r.Name+".control")
		if _, err := os.Stat(control); err == nil {
			continue
		}
		msg := fmt.Sprintf("requires the PostgreSQL extension %q (%s not found)", r.Name, control)
		if r.Package != "" {
			msg += fmt.Sprintf("; install the package %q in the image", r.Package)
		}
		problems = append(problems, Problem{Plugin: name, Var: enable, Message: msg})
	}
	return problems
}
