package engine

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
)

// spec is everything ContainerCreate needs for one service, plus the networks
// to connect after creation (API 1.41 accepts one endpoint at create time).
type spec struct {
	Name        string
	Config      *container.Config
	Host        *container.HostConfig
	Net         *network.NetworkingConfig
	ExtraNets   map[string]*network.EndpointSettings // network name -> endpoint
	BindsToMake []string                             // host paths to create first
}

// containerName is the name compose gives the first container of a service.
func containerName(p *types.Project, svc types.ServiceConfig) string {
	if svc.ContainerName != "" {
		return svc.ContainerName
	}
	return p.Name + "-" + svc.Name + "-1"
}

// convert maps a compose service to the Engine's container configuration. It
// refuses the compose features the rig does not implement instead of silently
// ignoring them, so a compose file and the rig cannot quietly disagree.
func convert(p *types.Project, svc types.ServiceConfig, labels map[string]string) (*spec, error) {
	if svc.Build != nil && svc.Image == "" {
		return nil, fmt.Errorf("service %s: build without image is not supported (build images with make image)", svc.Name)
	}
	if svc.Image == "" {
		return nil, fmt.Errorf("service %s: no image", svc.Name)
	}
	if svc.Scale != nil && *svc.Scale != 1 {
		return nil, fmt.Errorf("service %s: scale %d is not supported (one container per service)", svc.Name, *svc.Scale)
	}
	if len(svc.VolumesFrom) > 0 {
		return nil, fmt.Errorf("service %s: volumes_from is not supported", svc.Name)
	}
	s := &spec{Name: containerName(p, svc)}

	all := map[string]string{}
	for k, v := range svc.Labels {
		all[k] = v
	}
	for k, v := range labels {
		all[k] = v
	}
	all["com.docker.compose.project"] = p.Name
	all["com.docker.compose.service"] = svc.Name
	all["com.docker.compose.container-number"] = "1"
	all["com.docker.compose.oneoff"] = "False"

	cfg := &container.Config{
		Hostname:     svc.Hostname,
		Domainname:   svc.DomainName,
		User:         svc.User,
		Tty:          svc.Tty,
		OpenStdin:    svc.StdinOpen,
		Env:          environ(svc.Environment),
		Cmd:          []string(svc.Command),
		Entrypoint:   []string(svc.Entrypoint),
		Image:        svc.Image,
		WorkingDir:   svc.WorkingDir,
		Labels:       all,
		StopSignal:   svc.StopSignal,
		ExposedPorts: nat.PortSet{},
	}
	if svc.StopGracePeriod != nil {
		secs := int(math.Ceil(time.Duration(*svc.StopGracePeriod).Seconds()))
		cfg.StopTimeout = &secs
	}
	if hc := svc.HealthCheck; hc != nil {
		h := &container.HealthConfig{Test: []string(hc.Test)}
		if hc.Disable {
			h.Test = []string{"NONE"}
		}
		if hc.Interval != nil {
			h.Interval = time.Duration(*hc.Interval)
		}
		if hc.Timeout != nil {
			h.Timeout = time.Duration(*hc.Timeout)
		}
		if hc.StartPeriod != nil {
			h.StartPeriod = time.Duration(*hc.StartPeriod)
		}
		if hc.StartInterval != nil {
			h.StartInterval = time.Duration(*hc.StartInterval)
		}
		if hc.Retries != nil {
			h.Retries = int(*hc.Retries)
		}
		cfg.Healthcheck = h
	}
	for _, e := range svc.Expose {
		cfg.ExposedPorts[nat.Port(withProto(e, "tcp"))] = struct{}{}
	}

	host := &container.HostConfig{
		PortBindings:   nat.PortMap{},
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyMode(svc.Restart)},
		Init:           svc.Init,
		CapAdd:         svc.CapAdd,
		CapDrop:        svc.CapDrop,
		Privileged:     svc.Privileged,
		ReadonlyRootfs: svc.ReadOnly,
		SecurityOpt:    svc.SecurityOpt,
		Sysctls:        map[string]string(svc.Sysctls),
		ShmSize:        int64(svc.ShmSize),
		GroupAdd:       svc.GroupAdd,
		ExtraHosts:     svc.ExtraHosts.AsList(":"),
		DNS:            svc.DNS,
		DNSOptions:     svc.DNSOpts,
		DNSSearch:      svc.DNSSearch,
	}
	if svc.Restart == "" {
		host.RestartPolicy = container.RestartPolicy{}
	}
	if len(svc.Tmpfs) > 0 {
		host.Tmpfs = map[string]string{}
		for _, t := range svc.Tmpfs {
			path, opts, _ := strings.Cut(t, ":")
			host.Tmpfs[path] = opts
		}
	}
	for _, pc := range svc.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port := nat.Port(fmt.Sprintf("%d/%s", pc.Target, proto))
		cfg.ExposedPorts[port] = struct{}{}
		host.PortBindings[port] = append(host.PortBindings[port], nat.PortBinding{HostIP: pc.HostIP, HostPort: pc.Published})
	}

	for _, v := range svc.Volumes {
		m := mount.Mount{Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeVolume:
			m.Type = mount.TypeVolume
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, fmt.Errorf("service %s: volume %q is not declared in the top-level volumes", svc.Name, v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil && v.Volume.NoCopy {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
			}
		case types.VolumeTypeBind:
			m.Type = mount.TypeBind
			m.Source = v.Source
			if !filepath.IsAbs(m.Source) {
				return nil, fmt.Errorf("service %s: bind source %q is not absolute", svc.Name, v.Source)
			}
			if v.Bind == nil || v.Bind.CreateHostPath {
				s.BindsToMake = append(s.BindsToMake, m.Source)
			}
		case types.VolumeTypeTmpfs:
			m.Type = mount.TypeTmpfs
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size)}
				if v.Tmpfs.Mode != 0 {
					m.TmpfsOptions.Mode = os.FileMode(v.Tmpfs.Mode)
				}
			}
		default:
			return nil, fmt.Errorf("service %s: volume type %q is not supported", svc.Name, v.Type)
		}
		host.Mounts = append(host.Mounts, m)
	}
	// File-based configs and secrets are read-only bind mounts, as compose does
	// without swarm.
	for _, c := range svc.Configs {
		src, ok := p.Configs[c.Source]
		if !ok || src.File == "" {
			return nil, fmt.Errorf("service %s: config %q: only file-based configs are supported", svc.Name, c.Source)
		}
		target := c.Target
		if target == "" {
			target = "/" + c.Source
		}
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeBind, Source: src.File, Target: target, ReadOnly: true})
	}
	for _, c := range svc.Secrets {
		src, ok := p.Secrets[c.Source]
		if !ok || src.File == "" {
			return nil, fmt.Errorf("service %s: secret %q: only file-based secrets are supported", svc.Name, c.Source)
		}
		target := c.Target
		if target == "" {
			target = c.Source
		}
		if !strings.HasPrefix(target, "/") {
			target = "/run/secrets/" + target
		}
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeBind, Source: src.File, Target: target, ReadOnly: true})
	}

	s.Config, s.Host = cfg, host
	switch svc.NetworkMode {
	case "host", "none":
		host.NetworkMode = container.NetworkMode(svc.NetworkMode)
		return s, nil
	case "":
	default:
		return nil, fmt.Errorf("service %s: network_mode %q is not supported", svc.Name, svc.NetworkMode)
	}
	nets := make([]string, 0, len(svc.Networks))
	for n := range svc.Networks {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	s.ExtraNets = map[string]*network.EndpointSettings{}
	for i, n := range nets {
		nc, ok := p.Networks[n]
		if !ok {
			return nil, fmt.Errorf("service %s: network %q is not declared", svc.Name, n)
		}
		ep := &network.EndpointSettings{}
		sn := svc.Networks[n]
		if sn.ServiceNameAliasEnabled() {
			ep.Aliases = append(ep.Aliases, svc.Name)
		}
		if sn != nil {
			ep.Aliases = append(ep.Aliases, sn.Aliases...)
			if sn.Ipv4Address != "" || sn.Ipv6Address != "" {
				ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: sn.Ipv4Address, IPv6Address: sn.Ipv6Address}
			}
		}
		if i == 0 {
			host.NetworkMode = container.NetworkMode(nc.Name)
			s.Net = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{nc.Name: ep}}
			continue
		}
		s.ExtraNets[nc.Name] = ep
	}
	return s, nil
}

// environ turns a compose environment into KEY=VALUE entries, sorted; a
// variable without a value (unset in the rig's environment) is left out, as
// compose does.
func environ(m types.MappingWithEquals) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		out = append(out, k+"="+*v)
	}
	sort.Strings(out)
	return out
}

func withProto(p, def string) string {
	if strings.Contains(p, "/") {
		return p
	}
	if _, err := strconv.Atoi(p); err != nil {
		return p
	}
	return p + "/" + def
}
