package integration

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg/prereq"
)

// dockerImage ends t (see prereq.Missing) unless a Docker Engine answers and
// ref is on it; the images come from `make image PG_MAJOR=<n>`.
func dockerImage(t *testing.T, ref, build string) {
	t.Helper()
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		prereq.Missing(t, "no Docker Engine (docker info: "+strings.TrimSpace(string(out))+")")
	}
	if err := exec.Command("docker", "image", "inspect", ref).Run(); err != nil {
		prereq.Missing(t, "no image "+ref+" on the Engine (build it with `"+build+"`)")
	}
}

// TestOtherMajorRefusedOnRealCluster: a real PostgreSQL 13 PGDATA, made by
// initdb inside pgdock/postgres:13 on a bind directory, is refused by the
// host's pgdock-entrypoint (PostgreSQL 15) and by pgdock/postgres:15 at
// preflight, with both versions and the way to upgrade named, and not one
// byte or mode of it changes: afterwards the 13 image still finds a
// cleanly shut down 13 cluster.
func TestOtherMajorRefusedOnRealCluster(t *testing.T) {
	prereq.NeedRoot(t, "the bind directory is chowned to the host's postgres user")
	dockerImage(t, "pgdock/postgres:13", "make image PG_MAJOR=13")
	s := newSite(t)
	u, err := user.Lookup("postgres")
	if err != nil {
		prereq.Missing(t, "no postgres OS user on the host (run `make deps`)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// The data directory's parent is bind-mounted as the image's
	// /var/lib/postgresql/data's parent would be: PGDATA is a subdirectory
	// the host's postgres user owns, as the container's --user.
	vol := filepath.Join(s.base, "vol")
	require.NoError(t, os.MkdirAll(vol, 0o700))
	require.NoError(t, os.Chown(vol, uid, gid))
	pgdata := filepath.Join(vol, "pgdata")
	docker := func(args ...string) (int, string) {
		out, err := exec.Command("docker", args...).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("docker %v: %v", args, err)
		}
		return code, string(out)
	}
	run := func(image string, extra ...string) []string {
		return append([]string{"run", "--rm", "--user", fmt.Sprintf("%d:%d", uid, gid),
			"-v", vol + ":/var/lib/postgresql/vol", "-e", "PGDATA=/var/lib/postgresql/vol/pgdata",
			"-e", "POSTGRES_PASSWORD=it-pw", image}, extra...)
	}
	code, out := docker(run("pgdock/postgres:13", "pgdock-entrypoint", "init")...)
	require.Equal(t, 0, code, out)
	v, err := os.ReadFile(filepath.Join(pgdata, "PG_VERSION"))
	require.NoError(t, err)
	require.Equal(t, "13\n", string(v), "a PostgreSQL 13 cluster made by the 13 image")
	before := snapshot(t, vol)

	// The host's entrypoint (PostgreSQL 15), started as root like a container.
	s.set("PGDATA", pgdata, "POSTGRES_PASSWORD", "it-pw")
	code, out = s.run()
	assert.Equal(t, 1, code, out)
	for _, want := range []string{"holds a PostgreSQL 13 cluster", "this image runs PostgreSQL 15", "PGDOCK_UPGRADE=true", "pgdock/postgres:13", "nothing was changed"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "database files are incompatible", "refused by pgdock, not by the server")
	assert.Equal(t, before, snapshot(t, vol), "the 13 cluster is untouched by the host entrypoint")

	// The 15 image, as users would run it on the old volume.
	if exec.Command("docker", "image", "inspect", "pgdock/postgres:15").Run() == nil {
		code, out = docker(run("pgdock/postgres:15")...)
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "holds a PostgreSQL 13 cluster")
		assert.Contains(t, out, "this image runs PostgreSQL 15")
		assert.Equal(t, before, snapshot(t, vol), "the 13 cluster is untouched by the 15 image")
	} else {
		t.Log("pgdock/postgres:15 not on the Engine: only the host's entrypoint was checked")
	}

	// The 13 image still sees its cluster, shut down cleanly.
	code, out = docker(run("pgdock/postgres:13", "pg_controldata", "/var/lib/postgresql/vol/pgdata")...)
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `pg_control version number:\s+1300`, out)
	assert.Regexp(t, `Database cluster state:\s+shut down`, out)
}

// TestLayout18RefusesOldMount: pgdock/postgres:18 keeps PGDATA in
// /var/lib/postgresql/18/docker with the volume at /var/lib/postgresql (the
// official 18 layout); a volume mounted the old way, at
// /var/lib/postgresql/data, is refused before anything is written to it or
// to PGDATA. PGDATA=/var/lib/postgresql/data keeps the old layout working.
func TestLayout18RefusesOldMount(t *testing.T) {
	dockerImage(t, "pgdock/postgres:18", "make image PG_MAJOR=18")
	vol := t.TempDir()
	require.NoError(t, os.Chmod(vol, 0o777))
	before := snapshot(t, vol)
	out, err := exec.Command("docker", "run", "--rm", "-v", vol+":/var/lib/postgresql/data",
		"-e", "POSTGRES_PASSWORD=it-pw", "pgdock/postgres:18").CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, string(out))
	assert.Equal(t, 1, ee.ExitCode(), string(out))
	assert.Contains(t, string(out), "a volume is mounted at /var/lib/postgresql/data, but PGDATA is /var/lib/postgresql/18/docker")
	assert.Contains(t, string(out), "Mount the volume at /var/lib/postgresql instead")
	assert.Equal(t, before, snapshot(t, vol), "nothing written to the mounted volume")

	// The old layout chosen explicitly: initdb runs on the mounted volume.
	out, err = exec.Command("docker", "run", "--rm", "-v", vol+":/var/lib/postgresql/data",
		"-e", "POSTGRES_PASSWORD=it-pw", "-e", "PGDATA=/var/lib/postgresql/data", "pgdock/postgres:18", "pgdock-entrypoint", "init").CombinedOutput()
	require.NoError(t, err, string(out))
	v, err := os.ReadFile(filepath.Join(vol, "PG_VERSION"))
	require.NoError(t, err)
	assert.Equal(t, "18\n", string(v))
}
