package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// The host has one PostgreSQL (15). The upgrade tests take PostgreSQL 13
// from the pgdock/postgres:13 image (make image PG_MAJOR=13): its
// /usr/lib/postgresql/13 and /usr/share/postgresql/13, and the bullseye
// libraries whose sonames the host lacks (compat-lib, as the upgrade image
// has them), extracted once into a cache directory keyed by the image id.
// The entrypoint then runs PostgreSQL 13 with that bin directory first on
// PATH, and 15 as usual.

// oldInstall returns the bin directory of PostgreSQL major from its image,
// and the directory of its compatibility libraries.
func oldInstall(t *testing.T, major string) (binDir, libDir string) {
	t.Helper()
	testpg.Setup(t)
	image := "pgdock/postgres:" + major
	if _, err := exec.LookPath("docker"); err != nil {
		testpg.Missing(t, "docker is not installed: the upgrade tests take PostgreSQL "+major+" from "+image)
	}
	out, err := exec.Command("docker", "image", "inspect", "-f", "{{.Id}}", image).Output()
	if err != nil {
		testpg.Missing(t, fmt.Sprintf("%s is not built (make image PG_MAJOR=%s): the upgrade tests take PostgreSQL %s from it", image, major, major))
	}
	id := strings.TrimPrefix(strings.TrimSpace(string(out)), "sha256:")
	cache := filepath.Join(os.TempDir(), "pgdock-test-pg"+major+"-"+id[:12])
	binDir = filepath.Join(cache, "usr/lib/postgresql", major, "bin")
	libDir = filepath.Join(cache, "usr/lib/postgresql", major, "compat-lib")
	if fileExists(filepath.Join(cache, "complete")) {
		return binDir, libDir
	}
	tmp := cache + ".tmp"
	require.NoError(t, os.RemoveAll(tmp))
	for _, d := range []string{"usr/lib/postgresql", "usr/share/postgresql", "usr/lib/postgresql/" + major + "/compat-lib"} {
		require.NoError(t, os.MkdirAll(filepath.Join(tmp, d), 0o755))
	}
	docker := func(args ...string) string {
		out, err := exec.Command("docker", args...).CombinedOutput()
		require.NoError(t, err, "docker %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	cid := docker("create", image)
	defer docker("rm", cid)
	docker("cp", cid+":/usr/lib/postgresql/"+major, filepath.Join(tmp, "usr/lib/postgresql"))
	docker("cp", cid+":/usr/share/postgresql/"+major, filepath.Join(tmp, "usr/share/postgresql"))
	// The same selection as docker/postgres-upgrade/Dockerfile: every
	// library the programs and modules load, kept when the host lacks it.
	libs := docker("run", "--rm", "--entrypoint", "bash", image, "-c",
		`for f in /usr/lib/postgresql/`+major+`/bin/* /usr/lib/postgresql/`+major+`/lib/*.so; do case $f in */llvmjit*) continue;; esac; ldd "$f" 2>/dev/null || true; done | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u`)
	have, err := exec.Command("ldconfig", "-p").Output()
	require.NoError(t, err)
	known := map[string]bool{}
	for _, l := range strings.Split(string(have), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			known[f[0]] = true
		}
	}
	for _, l := range strings.Split(libs, "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || known[f[0]] {
			continue
		}
		docker("cp", "-L", cid+":"+f[1], filepath.Join(tmp, "usr/lib/postgresql", major, "compat-lib", f[0]))
	}
	_ = os.Remove(filepath.Join(tmp, "usr/lib/postgresql", major, "lib", "llvmjit.so"))
	require.NoError(t, exec.Command("chmod", "-R", "a+rX", tmp).Run())
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "complete"), nil, 0o644))
	require.NoError(t, os.RemoveAll(cache))
	require.NoError(t, os.Rename(tmp, cache))
	return binDir, libDir
}

// asOld makes the site's entrypoint run the old PostgreSQL.
func (s *site) asOld(binDir, libDir string) *site {
	return s.set("PATH", binDir+":"+os.Getenv("PATH"), "LD_LIBRARY_PATH", libDir).unset("PGDOCK_UPGRADE", "PGDOCK_UPGRADE_OLD_BINDIR")
}

// asNew makes it run the host's PostgreSQL 15, with the old programs where
// the upgrade image has them.
func (s *site) asNew(binDir string, upgrade string) *site {
	s.set("PATH", os.Getenv("PATH"), "PGDOCK_UPGRADE_OLD_BINDIR", binDir).unset("LD_LIBRARY_PATH")
	if upgrade != "" {
		s.set("PGDOCK_UPGRADE", upgrade)
	} else {
		s.unset("PGDOCK_UPGRADE")
	}
	return s
}

// upgradeFixture is what the old cluster holds: tables with an index, a
// sequence, a view, a role with a password, a large object.
const upgradeFixture = `
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int);
CREATE INDEX items_name ON items (name);
INSERT INTO items (name, qty) SELECT 'item ' || g, g FROM generate_series(1, 1000) g;
CREATE SEQUENCE tickets START 100;
SELECT nextval('tickets'), nextval('tickets');
CREATE VIEW big_items AS SELECT name, qty FROM items WHERE qty > 900;
CREATE ROLE reader LOGIN PASSWORD 'reader-secret';
GRANT SELECT ON items, big_items TO reader;
SELECT lo_from_bytea(424242, 'large object payload');
CREATE EXTENSION hstore;
`

// checkFixture checks every object of the fixture on the running server,
// logging in with the old passwords.
func (s *site) checkFixture(t *testing.T) {
	t.Helper()
	c, err := s.connect("app", "app-secret", "app")
	require.NoError(t, err, "the old superuser password works after the upgrade")
	defer c.Close(context.Background())
	ctx := context.Background()
	var n, sum int
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*), sum(qty) FROM items").Scan(&n, &sum))
	assert.Equal(t, 1000, n)
	assert.Equal(t, 500500, sum)
	var idx string
	require.NoError(t, c.QueryRow(ctx, "SELECT indexdef FROM pg_indexes WHERE indexname = 'items_name'").Scan(&idx))
	assert.Contains(t, idx, "(name)")
	var last int
	require.NoError(t, c.QueryRow(ctx, "SELECT last_value FROM tickets").Scan(&last))
	assert.Equal(t, 101, last)
	require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM big_items").Scan(&n))
	assert.Equal(t, 100, n)
	var lo string
	require.NoError(t, c.QueryRow(ctx, "SELECT convert_from(lo_get(424242), 'UTF8')").Scan(&lo))
	assert.Equal(t, "large object payload", lo)
	var ext string
	require.NoError(t, c.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'hstore'").Scan(&ext))
	assert.NotEmpty(t, ext)
	if s.serverVersion(t) > 13 {
		var stats int
		require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM pg_stats WHERE tablename = 'items'").Scan(&stats))
		assert.Positive(t, stats, "statistics rebuilt (vacuumdb --analyze-in-stages)")
	}
	r, err := s.connect("reader", "reader-secret", "app")
	require.NoError(t, err, "a role's old password works after the upgrade")
	defer r.Close(ctx)
	require.NoError(t, r.QueryRow(ctx, "SELECT count(*) FROM big_items").Scan(&n))
	assert.Equal(t, 100, n)
}

func (s *site) serverVersion(t *testing.T) int {
	t.Helper()
	var v int
	c, err := s.connect("app", "app-secret", "app")
	require.NoError(t, err)
	defer c.Close(context.Background())
	require.NoError(t, c.QueryRow(context.Background(), "SELECT current_setting('server_version_num')::int / 10000").Scan(&v))
	return v
}

// oldVolume makes a PostgreSQL 13 PGDATA with the fixture, as the 13 image
// would on first boot, and stops it.
func oldVolume(t *testing.T, bin13, lib13 string) *site {
	s := newSite(t)
	s.set("POSTGRES_USER", "app", "POSTGRES_PASSWORD", "app-secret", "POSTGRES_DB", "app")
	s.asOld(bin13, lib13)
	s.script("10-fixture.sql", upgradeFixture, 0o644)
	p := s.start()
	p.ready()
	require.Equal(t, 13, s.serverVersion(t))
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(60*time.Second), p.out.String())
	require.NoError(t, os.RemoveAll(s.Initdb))
	require.NoError(t, os.MkdirAll(s.Initdb, 0o755))
	return s
}

func pgVersionOf(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// TestUpgrade13To15: PGDOCK_UPGRADE=true on a 13 volume upgrades it (copy mode) and
// starts 15 with every object and password; the old cluster is kept beside
// PGDATA; a later start with the variable still set starts normally; the
// kept cluster still starts with 13 (the way back).
func TestUpgrade13To15(t *testing.T) {
	bin13, lib13 := oldInstall(t, "13")
	// Link mode: TestUpgradeCrash ends with a complete --link upgrade.
	for _, mode := range []string{"copy"} {
		t.Run(mode, func(t *testing.T) {
			s := oldVolume(t, bin13, lib13)
			s.asNew(bin13, "true").set("PGDOCK_UPGRADE_MODE", mode)
			start := time.Now()
			p := s.start()
			p.ready()
			t.Logf("%s: upgrade and start took %s", mode, time.Since(start).Round(time.Millisecond))
			out := p.out.String()
			for _, want := range []string{"upgrade: PostgreSQL 13 → 15", "3/6 pg_upgrade --check", "4/6 pg_upgrade", "upgrade complete"} {
				assert.Contains(t, out, want)
			}
			assert.Equal(t, 15, s.serverVersion(t))
			s.checkFixture(t)
			p.signal(syscall.SIGTERM)
			require.Equal(t, 0, p.wait(60*time.Second))
			assert.Equal(t, "15", pgVersionOf(t, s.PGData))
			// Beside PGDATA when its parent is writable, else inside it.
			kept, _ := filepath.Glob(s.PGData + "-old-13-*")
			inside, _ := filepath.Glob(filepath.Join(s.PGData, "pgdock-old-13-*"))
			kept = append(kept, inside...)
			require.Len(t, kept, 1, "the old cluster is kept")
			assert.Contains(t, out, "the PostgreSQL 13 cluster is kept in "+kept[0])
			assert.Equal(t, "13", pgVersionOf(t, kept[0]))

			// Runs once: the variable still set, a normal start.
			p = s.start()
			p.ready()
			assert.Contains(t, p.out.String(), "already holds PostgreSQL 15; nothing to upgrade")
			assert.NotContains(t, p.out.String(), "pg_upgrade")
			s.checkFixture(t)
			p.signal(syscall.SIGTERM)
			require.Equal(t, 0, p.wait(60*time.Second))

			if mode == "copy" {
				// The way back: the kept cluster starts with 13, as it was.
				back := newSite(t)
				back.PGData = kept[0]
				back.set("PGDATA", kept[0], "POSTGRES_USER", "app", "POSTGRES_PASSWORD", "app-secret", "POSTGRES_DB", "app")
				back.set("PGPORT", fmt.Sprint(back.Port))
				back.asOld(bin13, lib13)
				p = back.start()
				p.ready()
				assert.Equal(t, 13, back.serverVersion(t))
				back.checkFixture(t)
				p.signal(syscall.SIGTERM)
				require.Equal(t, 0, p.wait(60*time.Second))
			}
		})
	}
}

// TestUpgradeCrash: the entrypoint (and every process of the upgrade) is
// killed during pg_upgrade --link. The 13 entrypoint then rolls the volume
// back and starts it; a later PGDOCK_UPGRADE=true start upgrades it.
func TestUpgradeCrash(t *testing.T) {
	bin13, lib13 := oldInstall(t, "13")
	s := oldVolume(t, bin13, lib13)
	s.asNew(bin13, "true").set("PGDOCK_UPGRADE_MODE", "link")
	p := s.start()
	p.waitFor("4/6 pg_upgrade", 1, 120*time.Second)
	time.Sleep(1500 * time.Millisecond) // into pg_upgrade's work
	killAll(t, p, s.base)
	require.DirExists(t, filepath.Join(s.PGData, ".pgdock-upgrade"), "interrupted mid-upgrade")

	// Without the variable, the new image rolls back and refuses (the
	// data is 13 again).
	s.asNew(bin13, "")
	code, out := s.run()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "was rolled back")
	assert.Equal(t, "13", pgVersionOf(t, s.PGData))
	assert.NoDirExists(t, filepath.Join(s.PGData, ".pgdock-upgrade"))

	// Killed again, mid-pg_upgrade; now the old image starts the volume.
	s.asNew(bin13, "true")
	p = s.start()
	p.waitFor("4/6 pg_upgrade", 1, 120*time.Second)
	time.Sleep(1500 * time.Millisecond)
	killAll(t, p, s.base)
	s.asOld(bin13, lib13)
	p = s.start()
	p.ready()
	assert.Contains(t, p.out.String(), "rolled back the interrupted upgrade")
	assert.Equal(t, 13, s.serverVersion(t))
	s.checkFixture(t)
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(60*time.Second))

	// And the upgrade, asked again, goes through.
	s.asNew(bin13, "true")
	p = s.start()
	p.ready()
	assert.Equal(t, 15, s.serverVersion(t))
	s.checkFixture(t)
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(60*time.Second))
}

// TestUpgradeCheckRefusal: pg_upgrade --check finds a library the new
// installation lacks; the refusal names it and the volume is the 13
// cluster as before.
func TestUpgradeCheckRefusal(t *testing.T) {
	bin13, lib13 := oldInstall(t, "13")
	// A library only the old installation has (a copy of hstore's, under
	// another name), used by a function of the old cluster.
	only := filepath.Join(filepath.Dir(bin13), "lib", "pgdock_test_only.so")
	if !fileExists(only) {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(bin13), "lib", "hstore.so"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(only, data, 0o755))
	}
	s := newSite(t)
	s.set("POSTGRES_USER", "app", "POSTGRES_PASSWORD", "app-secret", "POSTGRES_DB", "app")
	s.asOld(bin13, lib13)
	s.script("10-lib.sql", `CREATE FUNCTION only_old(cstring) RETURNS cstring AS '$libdir/pgdock_test_only', 'hstore_in' LANGUAGE C STRICT;`, 0o644)
	p := s.start()
	p.ready()
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(60*time.Second))
	before := pgVersionOf(t, s.PGData)

	s.asNew(bin13, "true")
	code, out := s.run()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "pg_upgrade --check found problems")
	assert.Contains(t, out, "pgdock_test_only")
	assert.Contains(t, out, "PGDATA holds the PostgreSQL 13 cluster as before")
	assert.Equal(t, before, pgVersionOf(t, s.PGData))
	assert.NoDirExists(t, filepath.Join(s.PGData, ".pgdock-upgrade"))

	s.asOld(bin13, lib13)
	p = s.start()
	p.ready()
	p.signal(syscall.SIGTERM)
	require.Equal(t, 0, p.wait(60*time.Second))
}

// killAll is a container's death: SIGKILL to the entrypoint's group and to
// every process that names the site's directories (pg_upgrade, pg_ctl and
// the servers pg_ctl starts in sessions of their own).
func killAll(t *testing.T, p *proc, base string) {
	t.Helper()
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	// pg_upgrade and the pg_ctl it runs are in groups of their own, and a
	// pg_ctl killed after its fork still leaves a postmaster that appears
	// a moment later: scan until three scans in a row find nothing (as a
	// container's kill would leave nothing). The killed processes are
	// orphans that this machine's init reaps only after a while, and a
	// zombie postmaster still passes PostgreSQL's kill(pid, 0) check of a
	// postmaster.pid: wait until each one is gone. At most 15 s.
	deadline := time.Now().Add(15 * time.Second)
	killed := map[int]bool{}
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		out, _ := exec.Command("pgrep", "-f", base).Output()
		found := false
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				killed[pid], found = true, true
			}
		}
		if found {
			quiet = 0
		} else {
			quiet++
		}
		time.Sleep(200 * time.Millisecond)
	}
	for pid := range killed {
		for time.Now().Before(deadline) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	out, _ := exec.Command("pgrep", "-f", base).Output()
	require.Empty(t, strings.TrimSpace(string(out)), "processes of the killed upgrade still running")
}

// TestUpgradeCommand: `pgdock-entrypoint upgrade` upgrades and exits
// without a server; run again, it has nothing to do. A bad
// PGDOCK_UPGRADE_MODE is refused first, changing nothing; so is the plain
// new image without the old programs, naming the upgrade image.
func TestUpgradeCommand(t *testing.T) {
	bin13, lib13 := oldInstall(t, "13")
	s := oldVolume(t, bin13, lib13)

	s.asNew(bin13, "").set("PGDOCK_UPGRADE_MODE", "move")
	code, out := s.run("upgrade")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, `PGDOCK_UPGRADE_MODE="move": must be copy, link or clone`)
	assert.Equal(t, "13", pgVersionOf(t, s.PGData))

	s.set("PGDOCK_UPGRADE_MODE", "copy", "PGDOCK_UPGRADE_OLD_BINDIR", filepath.Join(s.base, "no-such-13", "bin"))
	code, out = s.run("upgrade")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "pgdock/postgres-upgrade:13-to-15")
	assert.Equal(t, "13", pgVersionOf(t, s.PGData))
	assert.NoDirExists(t, filepath.Join(s.PGData, ".pgdock-upgrade"))

	s.set("PGDOCK_UPGRADE_OLD_BINDIR", bin13)
	code, out = s.run("upgrade")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "upgrade complete")
	assert.NotContains(t, out, "PostgreSQL is ready")
	assert.Equal(t, "15", pgVersionOf(t, s.PGData))
	assert.Zero(t, postmasterPID(s.PGData), "no server left running")

	code, out = s.run("upgrade")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "nothing to upgrade")
}
