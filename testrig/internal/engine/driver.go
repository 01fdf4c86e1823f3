package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"go.uber.org/zap"
)

// Labels every rig resource carries.
const (
	LabelRun  = "io.pgdock.testrig"      // the run id
	LabelPID  = "io.pgdock.testrig.pid"  // pid of the testrig process that made it
	LabelHost = "io.pgdock.testrig.host" // hostname of that process
)

// Driver talks to the Docker Engine for one rig run.
type Driver struct {
	cli    *client.Client
	log    *zap.Logger
	runID  string
	labels map[string]string
}

// New connects to the Engine named by the usual DOCKER_* variables (the local
// socket by default), negotiating the API version, and checks it answers.
func New(ctx context.Context, log *zap.Logger, runID string) (*Driver, error) {
	if runID == "" {
		return nil, errors.New("engine: empty run id")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("engine: docker client: %w", err)
	}
	if _, err := cli.Ping(ctx); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("engine: Docker Engine not reachable (%s): %w", cli.DaemonHost(), err)
	}
	cli.NegotiateAPIVersion(ctx)
	host, _ := os.Hostname()
	return &Driver{
		cli:   cli,
		log:   log,
		runID: runID,
		labels: map[string]string{
			LabelRun:  runID,
			LabelPID:  strconv.Itoa(os.Getpid()),
			LabelHost: host,
		},
	}, nil
}

// Close releases the client.
func (d *Driver) Close() error { return d.cli.Close() }

// APIVersion is the negotiated Engine API version.
func (d *Driver) APIVersion() string { return d.cli.ClientVersion() }

// Client exposes the Docker client for checks the driver has no helper for.
func (d *Driver) Client() *client.Client { return d.cli }

// Labels returns a copy of the labels this run puts on its resources.
func (d *Driver) Labels() map[string]string {
	out := make(map[string]string, len(d.labels))
	for k, v := range d.labels {
		out[k] = v
	}
	return out
}

// ImageExists says whether ref is present locally. The rig never pulls: the
// images come from make image (there may be no registry).
func (d *Driver) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := d.cli.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("engine: inspect image %s: %w", ref, err)
}

// ImageSummaries describes the local images whose reference matches one of
// patterns ("pgdock/*"): "ref (id, size)", sorted.
func (d *Driver) ImageSummaries(ctx context.Context, patterns ...string) ([]string, error) {
	f := filters.NewArgs()
	for _, p := range patterns {
		f.Add("reference", p)
	}
	imgs, err := d.cli.ImageList(ctx, image.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("engine: list images: %w", err)
	}
	var out []string
	for _, im := range imgs {
		id := strings.TrimPrefix(im.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		for _, tag := range im.RepoTags {
			out = append(out, fmt.Sprintf("%s (%s, %d MB)", tag, id, (im.Size+500_000)/1_000_000))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Sweep removes containers, networks and volumes left by earlier rig runs
// whose process is gone (a crash, kill -9, --keep). Resources of a run that is
// still alive on this host, and anything without the rig's label, are left
// alone. It returns how many resources it removed.
func (d *Driver) Sweep(ctx context.Context) (int, error) {
	host, _ := os.Hostname()
	stale := func(labels map[string]string) bool {
		if labels[LabelRun] == d.runID {
			return false
		}
		if labels[LabelHost] != host {
			return false // another machine's run through a remote Engine: not ours to judge
		}
		pid, err := strconv.Atoi(labels[LabelPID])
		if err != nil || pid <= 0 {
			return true
		}
		return !processAlive(pid)
	}
	f := filters.NewArgs(filters.Arg("label", LabelRun))
	n := 0
	var errs []error
	cs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return 0, fmt.Errorf("engine: sweep: list containers: %w", err)
	}
	for _, c := range cs {
		if !stale(c.Labels) {
			continue
		}
		if err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID[:12], err))
			continue
		}
		d.log.Info("swept leftover container", zap.Strings("names", c.Names))
		n++
	}
	nets, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return n, fmt.Errorf("engine: sweep: list networks: %w", err)
	}
	for _, nw := range nets {
		if !stale(nw.Labels) {
			continue
		}
		if err := d.cli.NetworkRemove(ctx, nw.ID); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, err))
			continue
		}
		d.log.Info("swept leftover network", zap.String("name", nw.Name))
		n++
	}
	vols, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return n, fmt.Errorf("engine: sweep: list volumes: %w", err)
	}
	for _, v := range vols.Volumes {
		if !stale(v.Labels) {
			continue
		}
		if err := d.cli.VolumeRemove(ctx, v.Name, true); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
			continue
		}
		d.log.Info("swept leftover volume", zap.String("name", v.Name))
		n++
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("engine: sweep: %w", errors.Join(errs...))
	}
	return n, nil
}

// Leftovers counts resources carrying this run's label; after every stack is
// down it must be zero.
func (d *Driver) Leftovers(ctx context.Context) (int, error) {
	f := filters.NewArgs(filters.Arg("label", LabelRun+"="+d.runID))
	cs, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return 0, err
	}
	nets, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	vols, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		return 0, err
	}
	return len(cs) + len(nets) + len(vols.Volumes), nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
