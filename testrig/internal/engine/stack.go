package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
)

// Stack is one compose project on the Engine. Down removes everything Up
// created, whatever state Up stopped in.
type Stack struct {
	d       *Driver
	Project *types.Project

	mu         sync.Mutex
	containers map[string]string // service -> container id
	// endpoints: service -> network name -> the endpoint it was created
	// with (aliases), for Connect after a Disconnect.
	endpoints map[string]map[string]*network.EndpointSettings
	networks  []string // ids of networks we created
	volumes   []string // names of volumes we created
}

// NewStack prepares a stack for a loaded project; nothing is created yet.
func (d *Driver) NewStack(p *types.Project) *Stack {
	return &Stack{d: d, Project: p, containers: map[string]string{}, endpoints: map[string]map[string]*network.EndpointSettings{}}
}

// Hooks lets a caller time the steps of Up. Up calls them one at a time
// (never concurrently), so they need no locking of their own.
type Hooks struct {
	Created func(service string, at time.Time)
	Started func(service string, at time.Time)
}

// serial wraps h so its functions run one at a time.
func (h Hooks) serial() Hooks {
	var mu sync.Mutex
	wrap := func(f func(string, time.Time)) func(string, time.Time) {
		if f == nil {
			return func(string, time.Time) {}
		}
		return func(s string, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			f(s, at)
		}
	}
	return Hooks{Created: wrap(h.Created), Started: wrap(h.Started)}
}

// Up creates the project's networks and volumes, then its containers (at
// the same time), and starts each service as soon as its dependencies allow,
// as compose does: after each dependency has started (service_started, the
// short syntax), is healthy (service_healthy) or has exited 0
// (service_completed_successfully). Services with nothing to wait for start
// together.
func (s *Stack) Up(ctx context.Context, h Hooks) error {
	h = h.serial()
	if err := s.Create(ctx, h); err != nil {
		return err
	}
	wait := func(ctx context.Context, service, dep, cond string) error {
		switch cond {
		case types.ServiceConditionHealthy:
			if _, err := s.WaitHealthy(ctx, dep, 2*time.Minute); err != nil {
				return fmt.Errorf("engine: %s waits for %s to be healthy: %w", service, dep, err)
			}
		case types.ServiceConditionCompletedSuccessfully:
			code, err := s.WaitExit(ctx, dep, 2*time.Minute)
			if err != nil {
				return fmt.Errorf("engine: %s waits for %s to complete: %w", service, dep, err)
			}
			if code != 0 {
				return fmt.Errorf("engine: %s depends on %s, which exited %d", service, dep, code)
			}
		}
		return nil
	}
	start := func(ctx context.Context, service string) error {
		if err := s.Start(ctx, service); err != nil {
			return err
		}
		h.Started(service, time.Now())
		return nil
	}
	return startInDependencyOrder(ctx, s.Project, wait, start)
}

// Create makes the networks and volumes, then the containers (not
// started). Every service is converted and its image checked before the
// first container is created; the containers are then created at the same
// time. Whatever was created is recorded for Down, also on error.
func (s *Stack) Create(ctx context.Context, h Hooks) error {
	h = h.serial()
	p := s.Project
	for _, key := range sortedKeys(p.Networks) {
		nc := p.Networks[key]
		if nc.External {
			continue
		}
		labels := s.d.Labels()
		for k, v := range nc.Labels {
			labels[k] = v
		}
		labels["com.docker.compose.project"] = p.Name
		labels["com.docker.compose.network"] = key
		resp, err := s.d.cli.NetworkCreate(ctx, nc.Name, network.CreateOptions{
			Driver: nc.Driver, Options: nc.DriverOpts, Internal: nc.Internal,
			Attachable: nc.Attachable, Labels: labels,
		})
		if err != nil {
			return fmt.Errorf("engine: create network %s: %w", nc.Name, err)
		}
		s.mu.Lock()
		s.networks = append(s.networks, resp.ID)
		s.mu.Unlock()
	}
	for _, key := range sortedKeys(p.Volumes) {
		vc := p.Volumes[key]
		if vc.External {
			continue
		}
		labels := s.d.Labels()
		for k, v := range vc.Labels {
			labels[k] = v
		}
		labels["com.docker.compose.project"] = p.Name
		labels["com.docker.compose.volume"] = key
		v, err := s.d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: vc.Name, Driver: vc.Driver, DriverOpts: vc.DriverOpts, Labels: labels})
		if err != nil {
			return fmt.Errorf("engine: create volume %s: %w", vc.Name, err)
		}
		s.mu.Lock()
		s.volumes = append(s.volumes, v.Name)
		s.mu.Unlock()
	}
	order, err := composefile.ServiceOrder(p)
	if err != nil {
		return err
	}
	specs := make(map[string]*spec, len(order))
	images := map[string]bool{}
	for _, name := range order {
		svc := p.Services[name]
		sp, err := convert(p, svc, s.d.Labels())
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		if ok, seen := images[svc.Image]; !seen {
			if ok, err = s.d.ImageExists(ctx, svc.Image); err != nil {
				return err
			}
			images[svc.Image] = ok
		}
		if !images[svc.Image] {
			return fmt.Errorf("engine: service %s: image %s is not on this Engine (build it with make image; the rig never pulls)", name, svc.Image)
		}
		for _, dir := range sp.BindsToMake {
			// As compose: a missing bind source becomes a directory; an
			// existing file or directory is mounted as it is.
			if _, err := os.Stat(dir); err == nil {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("engine: service %s: bind source: %w", name, err)
			}
		}
		specs[name] = sp
	}
	var (
		wg   sync.WaitGroup
		emu  sync.Mutex
		errs []error
	)
	for _, name := range order {
		wg.Go(func() {
			if err := s.createContainer(ctx, name, specs[name], h); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createContainer creates one service's container and attaches it to its
// further networks.
func (s *Stack) createContainer(ctx context.Context, name string, sp *spec, h Hooks) error {
	resp, err := s.d.cli.ContainerCreate(ctx, sp.Config, sp.Host, sp.Net, nil, sp.Name)
	if err != nil {
		return fmt.Errorf("engine: create container %s: %w", sp.Name, err)
	}
	eps := map[string]*network.EndpointSettings{}
	if sp.Net != nil {
		for nw, ep := range sp.Net.EndpointsConfig {
			eps[nw] = ep
		}
	}
	for nw, ep := range sp.ExtraNets {
		eps[nw] = ep
	}
	s.mu.Lock()
	s.containers[name] = resp.ID
	s.endpoints[name] = eps
	s.mu.Unlock()
	for _, nw := range sortedKeys(sp.ExtraNets) {
		if err := s.d.cli.NetworkConnect(ctx, nw, resp.ID, sp.ExtraNets[nw]); err != nil {
			return fmt.Errorf("engine: connect %s to %s: %w", sp.Name, nw, err)
		}
	}
	for _, w := range resp.Warnings {
		s.d.log.Warn("engine warning", zap.String("container", sp.Name), zap.String("warning", w))
	}
	h.Created(name, time.Now())
	return nil
}

// ID is the container id of a service ("" when it was not created).
func (s *Stack) ID(service string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.containers[service]
}

func (s *Stack) id(service string) (string, error) {
	id := s.ID(service)
	if id == "" {
		return "", fmt.Errorf("engine: service %s has no container", service)
	}
	return id, nil
}

// Start starts a service's container (again, after a Stop).
func (s *Stack) Start(ctx context.Context, service string) error {
	id, err := s.id(service)
	if err != nil {
		return err
	}
	if err := s.d.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("engine: start %s: %w", service, err)
	}
	return nil
}

// Inspect returns the Engine's view of a service's container.
func (s *Stack) Inspect(ctx context.Context, service string) (container.InspectResponse, error) {
	id, err := s.id(service)
	if err != nil {
		return container.InspectResponse{}, err
	}
	return s.d.cli.ContainerInspect(ctx, id)
}

// Networks returns the compose keys of the project networks a service's
// container is attached to ("default", …), sorted.
func (s *Stack) Networks(service string) []string {
	svc, ok := s.Project.Services[service]
	if !ok {
		return nil
	}
	return sortedKeys(svc.Networks)
}

// networkName resolves a project network key ("default") to the Engine's
// name of that network.
func (s *Stack) networkName(key string) (string, error) {
	nc, ok := s.Project.Networks[key]
	if !ok {
		return "", fmt.Errorf("engine: project %s has no network %q (networks: %s)", s.Project.Name, key, strings.Join(sortedKeys(s.Project.Networks), ", "))
	}
	return nc.Name, nil
}

// Disconnect cuts a service's container off one of the project's networks
// (its compose key, e.g. "default"), as `docker network disconnect --force`:
// the container keeps running but reaches nothing on that network and,
// when it was its only one, nothing at all; its ports published through
// that network stop answering until Connect.
func (s *Stack) Disconnect(ctx context.Context, service, key string) error {
	id, err := s.id(service)
	if err != nil {
		return err
	}
	name, err := s.networkName(key)
	if err != nil {
		return err
	}
	if err := s.d.cli.NetworkDisconnect(ctx, name, id, true); err != nil {
		return fmt.Errorf("engine: disconnect %s from %s: %w", service, name, err)
	}
	return nil
}

// Connect attaches a service's container to one of the project's networks
// again, with the endpoint it was created with (the service name and its
// aliases, so the others resolve it as before). Its address may change,
// and the Engine may publish its ports on new host ports: ask HostAddr again.
func (s *Stack) Connect(ctx context.Context, service, key string) error {
	id, err := s.id(service)
	if err != nil {
		return err
	}
	name, err := s.networkName(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ep := s.endpoints[service][name]
	s.mu.Unlock()
	if ep == nil {
		return fmt.Errorf("engine: %s was not created on network %s (its networks: %s)", service, key, strings.Join(s.Networks(service), ", "))
	}
	cp := *ep // the Engine fills in what it is sent
	if err := s.d.cli.NetworkConnect(ctx, name, id, &cp); err != nil {
		return fmt.Errorf("engine: connect %s to %s: %w", service, name, err)
	}
	return nil
}

// HealthWatch is what WaitHealthy saw.
type HealthWatch struct {
	Statuses  []string  // distinct health statuses in the order seen
	HealthyAt time.Time // when the rig saw "healthy"
	// ProbeEnd is the end time of the passing probe as the Engine recorded
	// it: the moment the container turned healthy, independent of the rig's
	// polling (callers check it is after their start time).
	ProbeEnd time.Time
}

// ErrExited is returned by waits when the container stopped instead.
var ErrExited = errors.New("container exited")

// pollEvery is how often waits inspect a container; small enough to time
// a 5 s budget to a few tens of milliseconds, cheap for the Engine.
const pollEvery = 25 * time.Millisecond

// healthPollEvery is how often WaitHealthy inspects: the healthy time comes
// from the Engine's record of the passing probe, not from the poll, so it
// can be slower. Every inspect costs the Engine CPU that, on a small
// machine, the containers being timed would otherwise have (a Patroni
// cluster's bring-up is a minute of waiting).
const healthPollEvery = 100 * time.Millisecond

// WaitHealthy polls until the service is healthy, failing at once when it
// becomes unhealthy or exits, or after timeout.
func (s *Stack) WaitHealthy(ctx context.Context, service string, timeout time.Duration) (HealthWatch, error) {
	var w HealthWatch
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(healthPollEvery)
	defer t.Stop()
	for {
		ci, err := s.Inspect(ctx, service)
		if err != nil {
			return w, fmt.Errorf("engine: wait healthy %s: %w", service, err)
		}
		st := ci.State
		if st.Health == nil {
			return w, fmt.Errorf("engine: %s has no healthcheck", service)
		}
		if n := len(w.Statuses); n == 0 || w.Statuses[n-1] != string(st.Health.Status) {
			w.Statuses = append(w.Statuses, string(st.Health.Status))
		}
		switch st.Health.Status {
		case container.Healthy:
			w.HealthyAt = time.Now()
			// The probe that turned it healthy is the latest passing one
			// (the log can still hold probes from before a restart).
			for i := len(st.Health.Log) - 1; i >= 0; i-- {
				if r := st.Health.Log[i]; r.ExitCode == 0 {
					w.ProbeEnd = r.End
					break
				}
			}
			return w, nil
		case container.Unhealthy:
			return w, fmt.Errorf("engine: %s is unhealthy: %s", service, lastProbe(st.Health))
		}
		if !st.Running {
			return w, fmt.Errorf("engine: %s: %w with code %d before it was healthy", service, ErrExited, st.ExitCode)
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return w, fmt.Errorf("engine: wait for %s to be healthy: %w", service, ctx.Err())
			}
			return w, fmt.Errorf("engine: %s not healthy after %s (health %s, last probe: %s): %w", service, timeout, st.Health.Status, lastProbe(st.Health), ctx.Err())
		case <-t.C:
		}
	}
}

func lastProbe(h *container.Health) string {
	if h == nil || len(h.Log) == 0 {
		return "none yet"
	}
	r := h.Log[len(h.Log)-1]
	return fmt.Sprintf("exit %d: %s", r.ExitCode, strings.TrimSpace(r.Output))
}

// WaitRunning polls until the container is running.
func (s *Stack) WaitRunning(ctx context.Context, service string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		ci, err := s.Inspect(ctx, service)
		if err != nil {
			return err
		}
		if ci.State.Running {
			return nil
		}
		if ci.State.Status == "exited" || ci.State.Status == "dead" {
			return fmt.Errorf("engine: %s: %w with code %d", service, ErrExited, ci.State.ExitCode)
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("engine: wait for %s to run: %w", service, ctx.Err())
			}
			return fmt.Errorf("engine: %s not running after %s: %w", service, timeout, ctx.Err())
		case <-t.C:
		}
	}
}

// WaitExit waits for the container to exit and returns its exit code.
func (s *Stack) WaitExit(ctx context.Context, service string, timeout time.Duration) (int, error) {
	id, err := s.id(service)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	okC, errC := s.d.cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case r := <-okC:
		return int(r.StatusCode), nil
	case err := <-errC:
		return 0, fmt.Errorf("engine: wait for %s to exit: %w", service, err)
	}
}

// StopResult is the outcome of a timed docker stop.
type StopResult struct {
	Took        time.Duration // the stop call, signal to exit
	ExitCode    int
	OOMOrKilled bool // the Engine had to SIGKILL (exit 137)
}

// Stop stops a service the way `docker stop` does (its stop signal, then
// SIGKILL after the grace period) and times it. grace <= 0 uses the
// container's own stop timeout (stop_grace_period, else the Engine's 10 s).
func (s *Stack) Stop(ctx context.Context, service string, grace time.Duration) (StopResult, error) {
	id, err := s.id(service)
	if err != nil {
		return StopResult{}, err
	}
	opts := container.StopOptions{}
	if grace > 0 {
		secs := int((grace + time.Second - 1) / time.Second)
		opts.Timeout = &secs
	}
	start := time.Now()
	if err := s.d.cli.ContainerStop(ctx, id, opts); err != nil {
		return StopResult{}, fmt.Errorf("engine: stop %s: %w", service, err)
	}
	took := time.Since(start)
	ci, err := s.d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return StopResult{Took: took}, err
	}
	return StopResult{Took: took, ExitCode: ci.State.ExitCode, OOMOrKilled: ci.State.ExitCode == 137}, nil
}

// HostAddr is the host address ("127.0.0.1:49153") where a container port
// is published.
func (s *Stack) HostAddr(ctx context.Context, service string, port int) (string, error) {
	ci, err := s.Inspect(ctx, service)
	if err != nil {
		return "", err
	}
	if ci.NetworkSettings == nil {
		return "", fmt.Errorf("engine: %s has no network settings", service)
	}
	for _, b := range ci.NetworkSettings.Ports[nat.Port(fmt.Sprintf("%d/tcp", port))] {
		ip := b.HostIP
		if ip == "" || ip == "0.0.0.0" {
			ip = "127.0.0.1"
		}
		if ip == "::" {
			continue
		}
		return net.JoinHostPort(ip, b.HostPort), nil
	}
	return "", fmt.Errorf("engine: %s: port %d is not published", service, port)
}

// LogLine is one line of container output with the Engine's timestamp.
type LogLine struct {
	At     time.Time
	Stderr bool
	Text   string
}

// Logs returns the container's output so far, with the Engine's timestamps.
func (s *Stack) Logs(ctx context.Context, service string) ([]LogLine, error) {
	id, err := s.id(service)
	if err != nil {
		return nil, err
	}
	rc, err := s.d.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		return nil, fmt.Errorf("engine: logs of %s: %w", service, err)
	}
	defer rc.Close()
	ci, err := s.d.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, err
	}
	var out, errb bytes.Buffer
	if ci.Config != nil && ci.Config.Tty {
		_, err = io.Copy(&out, rc)
	} else {
		_, err = stdcopy.StdCopy(&out, &errb, rc)
	}
	if err != nil {
		return nil, fmt.Errorf("engine: read logs of %s: %w", service, err)
	}
	lines := append(parseLog(&out, false), parseLog(&errb, true)...)
	sortLines(lines)
	return lines, nil
}

func parseLog(r io.Reader, stderr bool) []LogLine {
	var out []LogLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		ts, text, ok := strings.Cut(sc.Text(), " ")
		at, err := time.Parse(time.RFC3339Nano, ts)
		if !ok || err != nil {
			out = append(out, LogLine{Stderr: stderr, Text: sc.Text()})
			continue
		}
		out = append(out, LogLine{At: at, Stderr: stderr, Text: text})
	}
	return out
}

// Exec runs a command in a running service container and returns its
// combined output and exit code.
func (s *Stack) Exec(ctx context.Context, service, user string, cmd ...string) (string, int, error) {
	id, err := s.id(service)
	if err != nil {
		return "", 0, err
	}
	ex, err := s.d.cli.ContainerExecCreate(ctx, id, container.ExecOptions{User: user, Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", 0, fmt.Errorf("engine: exec in %s: %w", service, err)
	}
	att, err := s.d.cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", 0, fmt.Errorf("engine: exec attach in %s: %w", service, err)
	}
	defer att.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, att.Reader); err != nil {
		return out.String(), 0, fmt.Errorf("engine: exec output in %s: %w", service, err)
	}
	insp, err := s.d.cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return out.String(), 0, err
	}
	return out.String(), insp.ExitCode, nil
}

// Processes lists the commands running in a service container.
func (s *Stack) Processes(ctx context.Context, service string) ([]string, error) {
	id, err := s.id(service)
	if err != nil {
		return nil, err
	}
	top, err := s.d.cli.ContainerTop(ctx, id, []string{"-eo", "pid,args"})
	if err != nil {
		return nil, fmt.Errorf("engine: top %s: %w", service, err)
	}
	var out []string
	for _, p := range top.Processes {
		if len(p) > 1 {
			out = append(out, p[1])
		}
	}
	return out, nil
}

// Down removes the containers (with their anonymous volumes), then the
// networks and volumes the stack created. It keeps going past errors and
// returns them all; missing resources are not errors.
func (s *Stack) Down(ctx context.Context) error {
	s.mu.Lock()
	ids := make([]string, 0, len(s.containers))
	for _, id := range s.containers {
		ids = append(ids, id)
	}
	nets, vols := s.networks, s.volumes
	s.containers, s.networks, s.volumes = map[string]string{}, nil, nil
	s.endpoints = map[string]map[string]*network.EndpointSettings{}
	s.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := s.d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", id, err))
		}
	}
	for _, id := range nets {
		if err := s.d.cli.NetworkRemove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %.12s: %w", id, err))
		}
	}
	for _, name := range vols {
		if err := s.d.cli.VolumeRemove(ctx, name, true); err != nil && !errdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("engine: down %s: %w", s.Project.Name, errors.Join(errs...))
	}
	return nil
}
