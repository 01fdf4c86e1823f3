package engine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
)

// TestRecreateService: a service's container and its named volume removed
// and the service created again, as the patroni-backup scenario re-creates
// a replica: a new container on an empty volume, on the project network
// under its name, removed by Down.
func TestRecreateService(t *testing.T) {
	runID := "r" + strconv.Itoa(os.Getpid())
	d := newDriver(t, runID)
	img := tinyImage(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("s3cret\n"), 0o644))
	p, err := composefile.Load(ctx, composefile.Options{
		Files: []string{"testdata/stack.yaml"}, ProjectName: "pgdockrig-enginerecreate-" + runID,
		Env: []string{"TINY_IMAGE=" + img, "BIND_DIR=" + t.TempDir(), "PW_FILE=" + pw},
	})
	require.NoError(t, err)
	composefile.LoopbackPorts(p)
	st := d.NewStack(p)
	t.Cleanup(func() { _ = st.Down(context.Background()) })
	require.NoError(t, st.Up(ctx, engine.Hooks{}))

	// A file in b's named volume "state".
	oldID := st.ID("b")
	require.NotEmpty(t, oldID)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "marker", Mode: 0o644, Size: 3}))
	_, err = tw.Write([]byte("old"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, d.Client().CopyToContainer(ctx, oldID, "/state", &buf, container.CopyToContainerOptions{}))
	out, code, err := st.Exec(ctx, "b", "", "/tiny", "cat", "/state/marker")
	require.NoError(t, err)
	require.Equal(t, 0, code, out)
	assert.Equal(t, "old", out)

	require.Error(t, st.CreateService(ctx, "b", engine.Hooks{}), "b still has its container")
	require.Error(t, st.RemoveVolume(ctx, "state"), "the Engine refuses to remove a volume in use")
	require.Error(t, st.RemoveVolume(ctx, "nosuch"), "an unknown volume key is an error")

	_, err = st.Stop(ctx, "b", 0)
	require.NoError(t, err)
	require.NoError(t, st.Remove(ctx, "b"))
	assert.Empty(t, st.ID("b"), "the stack forgot the container")
	_, err = d.Client().ContainerInspect(ctx, oldID)
	assert.True(t, errdefs.IsNotFound(err), "the old container is gone: %v", err)
	_, _, err = st.Exec(ctx, "b", "", "/tiny", "cat", "/state/marker")
	require.Error(t, err, "no container to exec in")
	require.NoError(t, st.RemoveVolume(ctx, "state"))
	_, err = d.Client().VolumeInspect(ctx, p.Volumes["state"].Name)
	assert.True(t, errdefs.IsNotFound(err), "the volume is gone: %v", err)

	var created []string
	require.NoError(t, st.CreateService(ctx, "b", engine.Hooks{Created: func(s string, _ time.Time) { created = append(created, s) }}))
	assert.Equal(t, []string{"b"}, created)
	newID := st.ID("b")
	require.NotEmpty(t, newID)
	assert.NotEqual(t, oldID, newID)
	v, err := d.Client().VolumeInspect(ctx, p.Volumes["state"].Name)
	require.NoError(t, err, "the volume is created again")
	assert.Equal(t, runID, v.Labels[engine.LabelRun], "with the rig's labels (Down and the sweep find it)")
	require.NoError(t, st.Start(ctx, "b"))
	require.NoError(t, st.WaitRunning(ctx, "b", 30*time.Second))
	out, code, err = st.Exec(ctx, "b", "", "/tiny", "cat", "/state/marker")
	require.NoError(t, err)
	assert.Equal(t, 1, code, "the new volume is empty: %s", out)
	out, code, err = st.Exec(ctx, "b", "", "/tiny", "cat", "/run/secrets/pw")
	require.NoError(t, err)
	require.Equal(t, 0, code, out)
	assert.Equal(t, "s3cret\n", out, "mounted as before")
	out, code, err = st.Exec(ctx, "b", "", "/tiny", "dial", "a:8080")
	require.NoError(t, err)
	require.Equal(t, 0, code, out)
	assert.Equal(t, "hello\n", out, "on the project network: it reaches a by name")
	r, err := st.Stop(ctx, "b", 0)
	require.NoError(t, err)
	assert.Equal(t, 3, r.ExitCode)

	require.NoError(t, st.Down(ctx))
	n, err := d.Leftovers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "the new container and volume are removed by Down")
}
