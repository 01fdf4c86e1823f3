package engine_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/enginetest"
)

func newDriver(t *testing.T, runID string) *engine.Driver {
	t.Helper()
	return enginetest.Driver(t, runID)
}

func tinyImage(t *testing.T, d *engine.Driver) string {
	t.Helper()
	return enginetest.TinyImage(t, d)
}

func TestStackLifecycle(t *testing.T) {
	runID := "t" + strconv.Itoa(os.Getpid())
	d := newDriver(t, runID)
	img := tinyImage(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	bindDir := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("s3cret\n"), 0o644))
	p, err := composefile.Load(ctx, composefile.Options{
		Files: []string{"testdata/stack.yaml"}, ProjectName: "pgdockrig-enginetest-" + runID,
		Env: []string{"TINY_IMAGE=" + img, "BIND_DIR=" + bindDir, "PW_FILE=" + pw},
	})
	require.NoError(t, err)
	composefile.LoopbackPorts(p)

	st := d.NewStack(p)
	t.Cleanup(func() { _ = st.Down(context.Background()) })
	created := map[string]time.Time{}
	started := map[string]time.Time{}
	require.NoError(t, st.Up(ctx, engine.Hooks{
		Created: func(s string, at time.Time) { created[s] = at },
		Started: func(s string, at time.Time) { started[s] = at },
	}))
	require.Len(t, created, 2)
	require.Len(t, started, 2)

	// b depends on a being healthy: it started after a's first passing probe.
	ai, err := st.Inspect(ctx, "a")
	require.NoError(t, err)
	require.NotNil(t, ai.State.Health)
	assert.Equal(t, "healthy", string(ai.State.Health.Status))
	var firstPass time.Time
	for _, r := range ai.State.Health.Log {
		if r.ExitCode == 0 {
			firstPass = r.End
			break
		}
	}
	require.False(t, firstPass.IsZero())
	assert.True(t, started["b"].After(firstPass), "b started %s, a healthy %s", started["b"], firstPass)
	assert.Equal(t, runID, ai.Config.Labels[engine.LabelRun])
	assert.Equal(t, strconv.Itoa(os.Getpid()), ai.Config.Labels[engine.LabelPID])

	w, err := st.WaitHealthy(ctx, "a", 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []string{"healthy"}, w.Statuses)

	addr, err := st.HostAddr(ctx, "a", 8080)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	require.NoError(t, err)
	assert.Equal(t, "hello\n", line)

	out, code, err := st.Exec(ctx, "b", "", "/tiny", "cat", "/run/secrets/pw")
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "s3cret\n", out, "the file secret is mounted where compose mounts it")
	_, code, err = st.Exec(ctx, "b", "", "/tiny", "cat", "/nonexistent")
	require.NoError(t, err)
	assert.Equal(t, 1, code, "exec exit codes come back")

	lines, err := st.Logs(ctx, "a")
	require.NoError(t, err)
	require.NotEmpty(t, lines)
	assert.Equal(t, "tiny ready", lines[0].Text)
	assert.False(t, lines[0].At.IsZero(), "Engine timestamps are parsed")

	// Cut a off the project network and attach it again (the patroni
	// scenario isolates its leader this way).
	assert.Equal(t, []string{"default"}, st.Networks("a"))
	dial := func() (string, int) {
		out, code, err := st.Exec(ctx, "b", "", "/tiny", "dial", "a:8080")
		require.NoError(t, err)
		return out, code
	}
	out, code = dial()
	require.Equal(t, 0, code, out)
	assert.Equal(t, "hello\n", out, "b reaches a by its service name")
	require.NoError(t, st.Disconnect(ctx, "a", "default"))
	ai, err = st.Inspect(ctx, "a")
	require.NoError(t, err)
	assert.Empty(t, ai.NetworkSettings.Networks, "a is on no network")
	assert.True(t, ai.State.Running, "a keeps running")
	out, code = dial()
	assert.NotEqual(t, 0, code, "a is unreachable from b while cut off: %s", out)
	require.Error(t, st.Disconnect(ctx, "a", "nosuchnet"), "an unknown network key is an error")
	require.NoError(t, st.Connect(ctx, "a", "default"))
	out, code = dial()
	require.Equal(t, 0, code, "reconnected with its alias: %s", out)
	assert.Equal(t, "hello\n", out)
	addr, err = st.HostAddr(ctx, "a", 8080)
	require.NoError(t, err, "its port is published again")
	conn, err = net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	line, err = bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	require.NoError(t, err)
	assert.Equal(t, "hello\n", line, "the published port answers after Connect")
	// Disconnecting twice: the Engine says a is not connected.
	require.NoError(t, st.Disconnect(ctx, "a", "default"))
	require.Error(t, st.Disconnect(ctx, "a", "default"))
	require.NoError(t, st.Connect(ctx, "a", "default"))

	r, err := st.Stop(ctx, "a", 0)
	require.NoError(t, err)
	assert.Equal(t, 0, r.ExitCode)
	assert.Less(t, r.Took, 5*time.Second, "SIGTERM handled, no SIGKILL after the grace period")
	r, err = st.Stop(ctx, "b", 0)
	require.NoError(t, err)
	assert.Equal(t, 3, r.ExitCode, "the container's exit code is reported")

	// Restart after stop, as the direct scenario does.
	require.NoError(t, st.Start(ctx, "a"))
	_, err = st.WaitHealthy(ctx, "a", 30*time.Second)
	require.NoError(t, err)

	require.NoError(t, st.Down(ctx))
	n, err := d.Leftovers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "containers, networks and volumes are all gone")
	require.NoError(t, st.Down(ctx), "Down twice is harmless")
}

func TestWaitHealthyFailsFast(t *testing.T) {
	runID := "f" + strconv.Itoa(os.Getpid())
	d := newDriver(t, runID)
	img := tinyImage(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pw := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pw, []byte("x"), 0o644))
	p, err := composefile.Load(ctx, composefile.Options{
		Files: []string{"testdata/stack.yaml"}, ProjectName: "pgdockrig-enginefail-" + runID,
		Env: []string{"TINY_IMAGE=" + img, "BIND_DIR=" + t.TempDir(), "PW_FILE=" + pw},
	})
	require.NoError(t, err)
	composefile.LoopbackPorts(p)
	p = p.WithServicesDisabled("b")
	// a never turns healthy and gives up after two probes.
	require.NoError(t, composefile.SetEnv(p, "a", "TINY_HEALTHY_AFTER=1h"))
	svc := p.Services["a"]
	two := uint64(2)
	svc.HealthCheck.Retries = &two
	p.Services["a"] = svc

	st := d.NewStack(p)
	t.Cleanup(func() { _ = st.Down(context.Background()) })
	require.NoError(t, st.Up(ctx, engine.Hooks{}))
	begin := time.Now()
	w, err := st.WaitHealthy(ctx, "a", time.Minute)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unhealthy")
	assert.Contains(t, err.Error(), "not yet", "the last probe's output explains why")
	assert.Less(t, time.Since(begin), 30*time.Second, "unhealthy ends the wait, not the timeout")
	assert.Equal(t, "starting", w.Statuses[0])
}

func TestSweep(t *testing.T) {
	d := newDriver(t, "sweeper"+strconv.Itoa(os.Getpid()))
	ctx := context.Background()
	host, _ := os.Hostname()

	// A pid that is certainly dead: a finished child of ours.
	c := exec.Command("true")
	require.NoError(t, c.Run())
	dead := strconv.Itoa(c.Process.Pid)

	suffix := strconv.Itoa(os.Getpid())
	labels := func(pid, h string) map[string]string {
		return map[string]string{engine.LabelRun: "old", engine.LabelPID: pid, engine.LabelHost: h}
	}
	mk := func(name string, l map[string]string) {
		_, err := d.Client().VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: l})
		require.NoError(t, err)
		_, err = d.Client().NetworkCreate(ctx, name, network.CreateOptions{Labels: l})
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = d.Client().VolumeRemove(context.Background(), name, true)
			_ = d.Client().NetworkRemove(context.Background(), name)
		})
	}
	mk("pgdockrig-sweep-dead-"+suffix, labels(dead, host))
	mk("pgdockrig-sweep-live-"+suffix, labels(strconv.Itoa(os.Getpid()), host)) // a run still going
	mk("pgdockrig-sweep-remote-"+suffix, labels(dead, host+"-elsewhere"))       // another machine's
	// Not ours at all: no rig label.
	_, err := d.Client().VolumeCreate(ctx, volume.CreateOptions{Name: "pgdockrig-sweep-foreign-" + suffix})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Client().VolumeRemove(context.Background(), "pgdockrig-sweep-foreign-"+suffix, true) })

	n, err := d.Sweep(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 2, "the dead run's volume and network")

	vols, err := d.Client().VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "pgdockrig-sweep-"))})
	require.NoError(t, err)
	var left []string
	for _, v := range vols.Volumes {
		if strings.HasSuffix(v.Name, suffix) {
			left = append(left, v.Name)
		}
	}
	assert.ElementsMatch(t, []string{
		"pgdockrig-sweep-live-" + suffix, "pgdockrig-sweep-remote-" + suffix, "pgdockrig-sweep-foreign-" + suffix,
	}, left)
	nets, err := d.Client().NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", "pgdockrig-sweep-dead-"+suffix))})
	require.NoError(t, err)
	assert.Empty(t, nets)
}

func TestImageSummaries(t *testing.T) {
	d := newDriver(t, enginetest.RunID("img"))
	ref := tinyImage(t, d)
	got, err := d.ImageSummaries(context.Background(), "pgdock-testrig/*")
	require.NoError(t, err)
	var found bool
	for _, s := range got {
		if strings.HasPrefix(s, ref+" (") && strings.HasSuffix(s, " MB)") {
			found = true
		}
	}
	assert.True(t, found, "%s in %v", ref, got)
}
