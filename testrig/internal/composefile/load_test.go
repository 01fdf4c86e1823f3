package composefile

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func load(t *testing.T, profiles []string, env ...string) (*types.Project, error) {
	t.Helper()
	return Load(context.Background(), Options{
		Files:       []string{"testdata/compose.yaml"},
		ProjectName: "rigtest",
		Profiles:    profiles,
		Env:         env,
	})
}

func TestLoadInterpolation(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       []string
		image     string
		greeting  string
		published string
	}{
		{"defaults", []string{"PW_FILE=/tmp/pw"}, "example/db:1", "hello world", "5432"},
		{"overrides", []string{"PW_FILE=/tmp/pw", "DB_IMAGE=local/db:dev", "WHO=rig", "PORT=6543"}, "local/db:dev", "hello rig", "6543"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := load(t, nil, tc.env...)
			require.NoError(t, err)
			db := p.Services["db"]
			assert.Equal(t, tc.image, db.Image)
			assert.Equal(t, tc.greeting, *db.Environment["GREETING"])
			assert.Equal(t, "from-dotenv", *db.Environment["FROM_DOTENV"], ".env next to the file is read")
			require.Len(t, db.Ports, 1)
			assert.Equal(t, tc.published, db.Ports[0].Published)
			assert.Equal(t, "/tmp/pw", p.Secrets["pw"].File)
			assert.Equal(t, "rigtest_data", p.Volumes["data"].Name, "volumes are prefixed with the project")
			abs, _ := filepath.Abs("testdata/init")
			assert.Equal(t, abs, db.Volumes[1].Source, "relative bind sources resolve against the file")
		})
	}
}

func TestLoadRequiredVariable(t *testing.T) {
	t.Setenv("PW_FILE", "")
	_, err := load(t, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "set PW_FILE to the password file")
}

func TestLoadOSEnvOnlyWhenAsked(t *testing.T) {
	t.Setenv("WHO", "from-os")
	for _, useOS := range []bool{false, true} {
		p, err := Load(context.Background(), Options{
			Files: []string{"testdata/compose.yaml"}, ProjectName: "rigtest",
			Env: []string{"PW_FILE=/tmp/pw"}, UseOSEnv: useOS,
		})
		require.NoError(t, err)
		want := "hello world"
		if useOS {
			want = "hello from-os"
		}
		assert.Equal(t, want, *p.Services["db"].Environment["GREETING"], "UseOSEnv=%v", useOS)
	}
}

func TestLoadProfiles(t *testing.T) {
	for _, tc := range []struct {
		profiles []string
		want     []string
	}{
		{nil, []string{"app", "db"}},
		{[]string{"ui"}, []string{"app", "db", "ui"}},
		{[]string{"*"}, []string{"app", "db", "ui"}},
		{[]string{"other"}, []string{"app", "db"}},
	} {
		t.Run(strings.Join(tc.profiles, ","), func(t *testing.T) {
			p, err := load(t, tc.profiles, "PW_FILE=/tmp/pw")
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, p.ServiceNames())
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o       Options
		wantErr string
	}{
		{Options{ProjectName: "x"}, "no compose file"},
		{Options{Files: []string{"a"}, ProjectName: "Upper"}, "project name"},
		{Options{Files: []string{"a"}, ProjectName: "-x"}, "project name"},
		{Options{Files: []string{"a"}, ProjectName: "pgdockrig-ab12-direct1"}, ""},
	} {
		err := tc.o.Validate()
		if tc.wantErr == "" {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, tc.wantErr)
		}
	}
}

func TestServiceOrder(t *testing.T) {
	svc := func(deps ...string) types.ServiceConfig {
		s := types.ServiceConfig{}
		s.DependsOn = types.DependsOnConfig{}
		for _, d := range deps {
			s.DependsOn[d] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		services map[string]types.ServiceConfig
		want     []string
		wantErr  string
	}{
		{"chain", map[string]types.ServiceConfig{"grafana": svc("prometheus"), "prometheus": svc("exporter"), "exporter": svc("postgres"), "postgres": svc()},
			[]string{"postgres", "exporter", "prometheus", "grafana"}, ""},
		{"independent sorted by name", map[string]types.ServiceConfig{"b": svc(), "a": svc(), "c": svc("a")},
			[]string{"a", "b", "c"}, ""},
		{"cycle", map[string]types.ServiceConfig{"a": svc("b"), "b": svc("a")}, nil, "cycle"},
		{"missing required", map[string]types.ServiceConfig{"a": svc("ghost")}, nil, "not enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &types.Project{Name: "x", Services: types.Services{}}
			for n, s := range tc.services {
				s.Name = n
				p.Services[n] = s
			}
			got, err := ServiceOrder(p)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestAdjustments(t *testing.T) {
	p, err := load(t, nil, "PW_FILE=/tmp/pw", "BIND=0.0.0.0", "PORT=5432")
	require.NoError(t, err)

	LoopbackPorts(p)
	port := p.Services["db"].Ports[0]
	assert.Equal(t, "127.0.0.1", port.HostIP)
	assert.Equal(t, "", port.Published, "an ephemeral port, read back from the Engine")

	require.NoError(t, SetEnv(p, "db", "A=1", "GREETING=x=y"))
	assert.Equal(t, "1", *p.Services["db"].Environment["A"])
	assert.Equal(t, "x=y", *p.Services["db"].Environment["GREETING"])
	assert.ErrorContains(t, SetEnv(p, "db", "NOEQUALS"), "KEY=VALUE")
	assert.ErrorContains(t, SetEnv(p, "ghost", "A=1"), `no service "ghost"`)

	require.NoError(t, ReplaceMount(p, "db", "/srv/data", "/var/lib/data"))
	vols := p.Services["db"].Volumes
	require.Len(t, vols, 2)
	var found bool
	for _, v := range vols {
		if v.Target == "/var/lib/data" {
			found = true
			assert.Equal(t, types.VolumeTypeBind, v.Type)
			assert.Equal(t, "/srv/data", v.Source)
		}
	}
	assert.True(t, found)
}

func TestLoadPrecedence(t *testing.T) {
	t.Setenv("WHO", "os")
	for _, tc := range []struct {
		name          string
		env           []string
		greet, dotenv string
	}{
		{"os over default, .env fills", nil, "hello os", "from-dotenv"},
		{"rig env over os and .env", []string{"WHO=rig", "DOTENV_VALUE=rig"}, "hello rig", "rig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(context.Background(), Options{
				Files: []string{"testdata/compose.yaml"}, ProjectName: "rigtest",
				Env: append([]string{"PW_FILE=/tmp/pw"}, tc.env...), UseOSEnv: true,
			})
			require.NoError(t, err)
			assert.Equal(t, tc.greet, *p.Services["db"].Environment["GREETING"])
			assert.Equal(t, tc.dotenv, *p.Services["db"].Environment["FROM_DOTENV"])
		})
	}
}
