package engine

import (
	"context"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/composefile"
)

func loadTestdata(t *testing.T) *types.Project {
	t.Helper()
	p, err := composefile.Load(context.Background(), composefile.Options{
		Files: []string{"../composefile/testdata/compose.yaml"}, ProjectName: "conv",
		Env: []string{"PW_FILE=/tmp/pw", "BIND=127.0.0.1", "PORT=6000"},
	})
	require.NoError(t, err)
	return p
}

func TestConvertService(t *testing.T) {
	p := loadTestdata(t)
	sp, err := convert(p, p.Services["db"], map[string]string{LabelRun: "r1"})
	require.NoError(t, err)

	assert.Equal(t, "conv-db-1", sp.Name)
	c := sp.Config
	assert.Equal(t, "example/db:1", c.Image)
	assert.Equal(t, "r1", c.Labels[LabelRun], "run labels are on every container")
	assert.Equal(t, "conv", c.Labels["com.docker.compose.project"])
	assert.Equal(t, "db", c.Labels["com.docker.compose.service"])
	assert.Contains(t, c.Env, "GREETING=hello world")
	assert.Contains(t, c.Env, "PASSWORD_FILE=/run/secrets/pw")
	require.NotNil(t, c.StopTimeout)
	assert.Equal(t, 2, *c.StopTimeout, "stop_grace_period 1500ms rounds up to whole seconds")

	require.NotNil(t, c.Healthcheck)
	assert.Equal(t, []string{"CMD", "check", "--fast"}, c.Healthcheck.Test)
	assert.Equal(t, time.Second, c.Healthcheck.Interval)
	assert.Equal(t, 2*time.Second, c.Healthcheck.Timeout)
	assert.Equal(t, 10*time.Second, c.Healthcheck.StartPeriod)
	assert.Equal(t, 3, c.Healthcheck.Retries)

	h := sp.Host
	assert.Equal(t, []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: "6000"}}, h.PortBindings["5432/tcp"])
	_, exposed := c.ExposedPorts["5432/tcp"]
	assert.True(t, exposed)

	byTarget := map[string]mount.Mount{}
	for _, m := range h.Mounts {
		byTarget[m.Target] = m
	}
	assert.Equal(t, mount.Mount{Type: mount.TypeVolume, Source: "conv_data", Target: "/var/lib/data"}, byTarget["/var/lib/data"])
	assert.Equal(t, mount.TypeBind, byTarget["/init"].Type)
	assert.True(t, byTarget["/init"].ReadOnly)
	assert.Equal(t, mount.Mount{Type: mount.TypeBind, Source: "/tmp/pw", Target: "/run/secrets/pw", ReadOnly: true}, byTarget["/run/secrets/pw"])
	assert.Contains(t, sp.BindsToMake, byTarget["/init"].Source, "short-syntax binds create their host path, as compose does")

	require.NotNil(t, sp.Net)
	ep := sp.Net.EndpointsConfig["conv_default"]
	require.NotNil(t, ep, "attached to the project's default network: %v", sp.Net.EndpointsConfig)
	assert.Contains(t, ep.Aliases, "db", "reachable by service name")
	assert.Equal(t, "conv_default", string(h.NetworkMode))
}

func TestConvertHealthcheckAndEnv(t *testing.T) {
	base := func() (*types.Project, types.ServiceConfig) {
		p := &types.Project{Name: "x", Services: types.Services{}, Networks: types.Networks{}}
		s := types.ServiceConfig{Name: "s"}
		s.Image = "img"
		return p, s
	}
	t.Run("disable", func(t *testing.T) {
		p, s := base()
		s.HealthCheck = &types.HealthCheckConfig{Disable: true}
		sp, err := convert(p, s, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"NONE"}, sp.Config.Healthcheck.Test)
	})
	t.Run("image healthcheck kept", func(t *testing.T) {
		p, s := base()
		sp, err := convert(p, s, nil)
		require.NoError(t, err)
		assert.Nil(t, sp.Config.Healthcheck, "no override: the image's HEALTHCHECK applies")
		assert.Nil(t, sp.Config.StopTimeout, "no stop_grace_period: the Engine's default")
	})
	t.Run("unset variables left out, sorted", func(t *testing.T) {
		p, s := base()
		v := "1"
		s.Environment = types.MappingWithEquals{"B": &v, "A": &v, "UNSET": nil}
		sp, err := convert(p, s, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"A=1", "B=1"}, sp.Config.Env)
	})
	t.Run("user and command", func(t *testing.T) {
		p, s := base()
		s.User = "12345:0"
		s.Command = types.ShellCommand{"postgres", "-c", "x=1"}
		sp, err := convert(p, s, nil)
		require.NoError(t, err)
		assert.Equal(t, "12345:0", sp.Config.User)
		assert.Equal(t, []string{"postgres", "-c", "x=1"}, []string(sp.Config.Cmd))
	})
}

func TestConvertRefusesWhatItCannotDo(t *testing.T) {
	scale := 2
	for _, tc := range []struct {
		name    string
		mod     func(*types.ServiceConfig)
		wantErr string
	}{
		{"no image", func(s *types.ServiceConfig) { s.Image = "" }, "no image"},
		{"build", func(s *types.ServiceConfig) { s.Image = ""; s.Build = &types.BuildConfig{Context: "."} }, "build"},
		{"scale", func(s *types.ServiceConfig) { s.Scale = &scale }, "scale"},
		{"volumes_from", func(s *types.ServiceConfig) { s.VolumesFrom = []string{"x"} }, "volumes_from"},
		{"undeclared volume", func(s *types.ServiceConfig) {
			s.Volumes = []types.ServiceVolumeConfig{{Type: types.VolumeTypeVolume, Source: "ghost", Target: "/x"}}
		}, "not declared"},
		{"network_mode service", func(s *types.ServiceConfig) { s.NetworkMode = "service:db" }, "network_mode"},
		{"external secret", func(s *types.ServiceConfig) {
			s.Secrets = []types.ServiceSecretConfig{{Source: "ghost"}}
		}, "file-based secrets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &types.Project{Name: "x", Services: types.Services{}}
			s := types.ServiceConfig{Name: "s"}
			s.Image = "img"
			tc.mod(&s)
			_, err := convert(p, s, nil)
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestConvertDNS(t *testing.T) {
	p := &types.Project{Name: "x", Services: types.Services{}, Networks: types.Networks{}}
	s := types.ServiceConfig{Name: "s"}
	s.Image = "img"
	s.DNS = types.StringList{"10.0.0.2"}
	s.DNSOpts = []string{"timeout:1", "attempts:2"}
	s.DNSSearch = types.StringList{"example.org"}
	sp, err := convert(p, s, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.2"}, sp.Host.DNS)
	assert.Equal(t, []string{"timeout:1", "attempts:2"}, sp.Host.DNSOptions, "dns_opt reaches the container's resolv.conf")
	assert.Equal(t, []string{"example.org"}, sp.Host.DNSSearch)
}
