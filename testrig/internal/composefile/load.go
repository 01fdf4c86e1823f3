package composefile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Options says which compose files to load and how.
type Options struct {
	// Files are the compose files, in override order (later files win).
	Files []string
	// ProjectName is the compose project name; it prefixes every resource.
	ProjectName string
	// Profiles to enable; services in other profiles are dropped.
	Profiles []string
	// Env is added to the process environment for interpolation (KEY=VALUE);
	// these entries win over the process environment and .env.
	Env []string
	// UseOSEnv lets the process environment interpolate the files, as the
	// compose CLI does. On by default through Default().
	UseOSEnv bool
}

var projectNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate reports the first problem with the options.
func (o Options) Validate() error {
	if len(o.Files) == 0 {
		return errors.New("composefile: no compose file given")
	}
	if !projectNameRE.MatchString(o.ProjectName) {
		return fmt.Errorf("composefile: project name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit", o.ProjectName)
	}
	return nil
}

// Load reads the compose files into a project.
func Load(ctx context.Context, o Options) (*types.Project, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	files := make([]string, len(o.Files))
	for i, f := range o.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("composefile: %s: %w", f, err)
		}
		files[i] = abs
	}
	// Precedence: the rig's Env, then the process environment, then the
	// .env file beside the first compose file (each only fills what the
	// ones before left unset), as the compose CLI does for the last two.
	fns := []cli.ProjectOptionsFn{
		cli.WithName(o.ProjectName),
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithEnv(o.Env),
	}
	if o.UseOSEnv {
		fns = append(fns, cli.WithOsEnv)
	}
	fns = append(fns,
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithProfiles(o.Profiles),
		cli.WithResolvedPaths(true),
	)
	po, err := cli.NewProjectOptions(files, fns...)
	if err != nil {
		return nil, fmt.Errorf("composefile: %w", err)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("composefile: load %v: %w", o.Files, err)
	}
	return p, nil
}

// ServiceOrder returns the project's services in start order: every service
// after the services it depends on, ties broken by name so the order is stable.
func ServiceOrder(p *types.Project) ([]string, error) {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []string
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("composefile: dependency cycle: %v", append(path, n))
		}
		state[n] = visiting
		svc, ok := p.Services[n]
		if !ok {
			return fmt.Errorf("composefile: service %q depends on %q, which is not enabled (missing profile?)", path[len(path)-1], n)
		}
		deps := make([]string, 0, len(svc.DependsOn))
		for d := range svc.DependsOn {
			deps = append(deps, d)
		}
		sort.Strings(deps)
		for _, d := range deps {
			if _, ok := p.Services[d]; !ok && !svc.DependsOn[d].Required {
				continue
			}
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = done
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// LoopbackPorts rewrites every published port to an ephemeral host port on
// 127.0.0.1: the rig reads the real port back from the Engine, and its stacks
// neither collide with each other nor listen beyond this host.
func LoopbackPorts(p *types.Project) {
	for name, svc := range p.Services {
		for i := range svc.Ports {
			svc.Ports[i].HostIP = "127.0.0.1"
			svc.Ports[i].Published = ""
		}
		p.Services[name] = svc
	}
}

// SetEnv sets environment variables of a service (KEY=VALUE entries).
func SetEnv(p *types.Project, service string, kv ...string) error {
	svc, ok := p.Services[service]
	if !ok {
		return fmt.Errorf("composefile: no service %q in project %s", service, p.Name)
	}
	if svc.Environment == nil {
		svc.Environment = types.MappingWithEquals{}
	}
	for _, e := range kv {
		k, v, ok := strings.Cut(e, "=")
		if !ok {
			return fmt.Errorf("composefile: environment entry %q: want KEY=VALUE", e)
		}
		svc.Environment[k] = &v
	}
	p.Services[service] = svc
	return nil
}

// AddBind mounts a host path into a service.
func AddBind(p *types.Project, service, source, target string, readOnly bool) error {
	svc, ok := p.Services[service]
	if !ok {
		return fmt.Errorf("composefile: no service %q in project %s", service, p.Name)
	}
	svc.Volumes = append(svc.Volumes, types.ServiceVolumeConfig{
		Type: types.VolumeTypeBind, Source: source, Target: target, ReadOnly: readOnly,
		Bind: &types.ServiceVolumeBind{CreateHostPath: false},
	})
	p.Services[service] = svc
	return nil
}

// ReplaceMount replaces the mount at target (or adds one) with a bind mount
// of source.
func ReplaceMount(p *types.Project, service, source, target string) error {
	svc, ok := p.Services[service]
	if !ok {
		return fmt.Errorf("composefile: no service %q in project %s", service, p.Name)
	}
	kept := svc.Volumes[:0]
	for _, v := range svc.Volumes {
		if v.Target != target {
			kept = append(kept, v)
		}
	}
	svc.Volumes = kept
	p.Services[service] = svc
	return AddBind(p, service, source, target, false)
}
