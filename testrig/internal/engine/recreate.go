package engine

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"
)

// Remove removes a service's container with its anonymous volumes, as
// `docker rm -f -v` (a running container is killed: Stop it first for a
// clean stop). The stack forgets the container; CreateService makes it
// again. Named volumes stay (RemoveVolume).
func (s *Stack) Remove(ctx context.Context, service string) error {
	id, err := s.id(service)
	if err != nil {
		return err
	}
	if err := s.d.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("engine: remove %s: %w", service, err)
	}
	s.mu.Lock()
	delete(s.containers, service)
	delete(s.endpoints, service)
	s.mu.Unlock()
	return nil
}

// RemoveVolume removes one of the project's named volumes (its compose key,
// e.g. "pg2"), as `docker volume rm`: the containers using it must have been
// removed (Remove). External volumes are refused: the stack did not create
// them. CreateService creates the volume again, empty.
func (s *Stack) RemoveVolume(ctx context.Context, key string) error {
	vc, ok := s.Project.Volumes[key]
	if !ok {
		return fmt.Errorf("engine: project %s has no volume %q (volumes: %v)", s.Project.Name, key, sortedKeys(s.Project.Volumes))
	}
	if vc.External {
		return fmt.Errorf("engine: volume %s is external: not the stack's to remove", key)
	}
	if err := s.d.cli.VolumeRemove(ctx, vc.Name, false); err != nil {
		return fmt.Errorf("engine: remove volume %s: %w", vc.Name, err)
	}
	return nil
}

// CreateService creates a removed service's container again from the
// project, as `docker-compose up --no-start <service>` after a
// `docker-compose rm`: first the project's named volumes it mounts that no
// longer exist (empty, with the rig's labels; Down removes them), then the
// container, attached to its networks with its aliases. Start it with
// Start. A service that still has a container is refused.
func (s *Stack) CreateService(ctx context.Context, service string, h Hooks) error {
	h = h.serial()
	svc, ok := s.Project.Services[service]
	if !ok {
		return fmt.Errorf("engine: project %s has no service %s", s.Project.Name, service)
	}
	if id := s.ID(service); id != "" {
		return fmt.Errorf("engine: service %s still has container %.12s: Remove it first", service, id)
	}
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeVolume || v.Source == "" {
			continue
		}
		if err := s.ensureVolume(ctx, v.Source); err != nil {
			return err
		}
	}
	sp, err := convert(s.Project, svc, s.d.Labels())
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	ok, err = s.d.ImageExists(ctx, svc.Image)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("engine: service %s: image %s is not on this Engine (build it with make image; the rig never pulls)", service, svc.Image)
	}
	return s.createContainer(ctx, service, sp, h)
}

// ensureVolume creates the project's named volume key unless it exists
// (or is external).
func (s *Stack) ensureVolume(ctx context.Context, key string) error {
	vc, ok := s.Project.Volumes[key]
	if !ok {
		return fmt.Errorf("engine: volume %q is not declared in the top-level volumes", key)
	}
	if vc.External {
		return nil
	}
	if _, err := s.d.cli.VolumeInspect(ctx, vc.Name); err == nil {
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("engine: inspect volume %s: %w", vc.Name, err)
	}
	labels := s.d.Labels()
	for k, v := range vc.Labels {
		labels[k] = v
	}
	labels["com.docker.compose.project"] = s.Project.Name
	labels["com.docker.compose.volume"] = key
	v, err := s.d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: vc.Name, Driver: vc.Driver, DriverOpts: vc.DriverOpts, Labels: labels})
	if err != nil {
		return fmt.Errorf("engine: create volume %s: %w", vc.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.volumes {
		if n == v.Name {
			return nil
		}
	}
	s.volumes = append(s.volumes, v.Name)
	return nil
}
