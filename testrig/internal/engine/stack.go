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
	networks   []string          // ids of networks we created
	volumes    []string          // names of volumes we created
}

// NewStack prepares a stack for a loaded project; nothing is created yet.
func (d *Driver) NewStack(p *types.Project) *Stack {
	return &Stack{d: d, Project: p, containers: map[string]string{}}
}

// Hooks lets a caller time the steps of Up.
type Hooks struct {
	Created func(service string, at time.Time)
	Started func(service string, at time.Time)
}

// Up creates the project's networks and volumes, then creates and starts each
// service in dependency order, waiting for a dependency's condition
// (service_started, service_healthy, service_completed_successfully) before
// starting the services that need it.
func (s *Stack) Up(ctx context.Context, h Hooks) error {
	if err := s.Create(ctx, h); err != nil {
		return err
	}
	order, err := composefile.ServiceOrder(s.Project)
	if err != nil {
		return err
	}
	for _, name := range order {
		svc := s.Project.Services[name]
		for dep, cond := range svc.DependsOn {
			if _, ok := s.Project.Services[dep]; !ok {
				continue
			}
			switch cond.Condition {
			case types.ServiceConditionHealthy:
				if _, err := s.WaitHealthy(ctx, dep, 2*time.Minute); err != nil {
					return fmt.Errorf("engine: %s waits for %s to be healthy: %w", name, dep, err)
				}
			case types.ServiceConditionCompletedSuccessfully:
				code, err := s.WaitExit(ctx, dep, 2*time.Minute)
				if err != nil {
					return fmt.Errorf("engine: %s waits for %s to complete: %w", name, dep, err)
				}
				if code != 0 {
					return fmt.Errorf("engine: %s depends on %s, which exited %d", name, dep, code)
				}
			}
		}
		if err := s.Start(ctx, name); err != nil {
			return err
		}
		if h.Started != nil {
			h.Started(name, time.Now())
		}
	}
	return nil
}

// Create makes the networks, volumes and containers (not started).
func (s *Stack) Create(ctx context.Context, h Hooks) error {
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
	for _, name := range order {
		svc := p.Services[name]
		sp, err := convert(p, svc, s.d.Labels())
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		ok, err := s.d.ImageExists(ctx, svc.Image)
		if err != nil {
			return err
		}
		if !ok {
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
		resp, err := s.d.cli.ContainerCreate(ctx, sp.Config, sp.Host, sp.Net, nil, sp.Name)
		if err != nil {
			return fmt.Errorf("engine: create container %s: %w", sp.Name, err)
		}
		s.mu.Lock()
		s.containers[name] = resp.ID
		s.mu.Unlock()
		for _, nw := range sortedKeys(sp.ExtraNets) {
			if err := s.d.cli.NetworkConnect(ctx, nw, resp.ID, sp.ExtraNets[nw]); err != nil {
				return fmt.Errorf("engine: connect %s to %s: %w", sp.Name, nw, err)
			}
		}
		for _, w := range resp.Warnings {
			s.d.log.Warn("engine warning", zap.String("container", sp.Name), zap.String("warning", w))
		}
		if h.Created != nil {
			h.Created(name, time.Now())
		}
	}
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

// WaitHealthy polls until the service is healthy, failing at once when it
// becomes unhealthy or exits, or after timeout.
func (s *Stack) WaitHealthy(ctx context.Context, service string, timeout time.Duration) (HealthWatch, error) {
	var w HealthWatch
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(pollEvery)
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
