package testpg

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pgdock/pgdock/entrypoint/internal/pgbin"
	"github.com/pgdock/pgdock/entrypoint/internal/privilege"
)

// Env describes the PostgreSQL installation and the identity to run it as.
type Env struct {
	Bin        pgbin.Bin
	Credential *syscall.Credential // nil when the tests do not run as root
	Owner      privilege.Identity  // who owns the data directories
}

// Setup finds PostgreSQL or ends the test through Missing (a skip, or a
// failure under PGDOCK_TEST_REQUIRE=1); -short skips it.
func Setup(t testing.TB) Env {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test runs a real PostgreSQL")
	}
	bin, err := pgbin.Find()
	if err != nil {
		Missing(t, fmt.Sprintf("PostgreSQL is not installed (run `make deps`): %v", err))
	}
	e := Env{Bin: bin, Owner: privilege.Current()}
	if os.Getuid() == 0 {
		id, err := privilege.Lookup("postgres")
		if err != nil {
			Missing(t, fmt.Sprintf("running as root but there is no postgres OS user: %v", err))
		}
		e.Owner = id
		e.Credential = &syscall.Credential{Uid: uint32(id.UID), Gid: uint32(id.GID)}
	}
	return e
}

// Dir makes a fresh directory owned by the server's user, mode 0700, under
// a temporary directory every user can traverse.
func (e Env) Dir(t testing.TB, name string) string {
	t.Helper()
	base := t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} { // t.TempDir's parent is 0700 too
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := filepath.Join(base, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	e.Chown(t, d)
	return d
}

// Chown gives path to the server's user (no-op when not root).
func (e Env) Chown(t testing.TB, path string) {
	t.Helper()
	if e.Credential == nil {
		return
	}
	if err := os.Chown(path, e.Owner.UID, e.Owner.GID); err != nil {
		t.Fatal(err)
	}
}

// Command returns cmd running as the server's user.
func (e Env) Command(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	if e.Credential != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: e.Credential}
	}
	return c
}

// Initdb creates a cluster with trust auth in a new directory and returns it.
func (e Env) Initdb(t testing.TB) string {
	t.Helper()
	d := e.Dir(t, "pgdata")
	out, err := e.Command(e.Bin.Initdb, "-D", d, "--auth=trust", "--no-sync", "-U", "postgres").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	return d
}

// FreePort returns a TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
