package citus

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantVars []string // variables named by the problems, in order
		check    func(t *testing.T, c Config)
	}{
		{name: "coordinator defaults", env: map[string]string{"CITUS_ROLE": "coordinator", "POSTGRES_DB": "app", "POSTGRES_PASSWORD": "pw"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, RoleCoordinator, c.Role)
				assert.Equal(t, "app", c.Database)
				assert.True(t, c.AutoRegister)
				assert.Equal(t, 5432, c.CoordinatorPort)
				assert.Equal(t, "postgres", c.CoordinatorUser)
				assert.Equal(t, "pw", c.CoordinatorPassword, "superuser password by default")
				assert.Equal(t, "prefer", c.CoordinatorSSLMode)
				assert.False(t, c.Patroni())
			}},
		{name: "worker", env: map[string]string{"CITUS_ROLE": "Worker", "CITUS_COORDINATOR_HOST": "coord", "CITUS_COORDINATOR_PORT": "6432",
			"CITUS_COORDINATOR_USER": "citus", "CITUS_COORDINATOR_PASSWORD": "s3", "CITUS_ADVERTISE_HOST": "w1.example", "CITUS_ADVERTISE_PORT": "5433",
			"CITUS_DATABASE": "dist", "POSTGRES_DB": "app", "CITUS_COORDINATOR_SSLMODE": "require"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, Config{Role: RoleWorker, CoordinatorHost: "coord", CoordinatorPort: 6432, CoordinatorUser: "citus", CoordinatorPassword: "s3",
					CoordinatorSSLMode: "require", AdvertiseHost: "w1.example", AdvertisePort: 5433, Database: "dist", AutoRegister: true}, c)
			}},
		{name: "database falls back to POSTGRES_USER then postgres", env: map[string]string{"CITUS_ROLE": "coordinator", "POSTGRES_USER": "app"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "app", c.Database)
				assert.Equal(t, "app", c.CoordinatorUser)
			}},
		{name: "worker without coordinator", env: map[string]string{"CITUS_ROLE": "worker"}, wantVars: []string{EnvCoordinatorHost}},
		{name: "worker without auto registration needs no coordinator", env: map[string]string{"CITUS_ROLE": "worker", "CITUS_AUTO_REGISTER": "false"},
			check: func(t *testing.T, c Config) { assert.False(t, c.AutoRegister) }},
		{name: "no role", env: map[string]string{}, wantVars: []string{EnvRole}},
		{name: "bad role", env: map[string]string{"CITUS_ROLE": "master"}, wantVars: []string{EnvRole}},
		{name: "every bad value at once", env: map[string]string{"CITUS_ROLE": "worker", "CITUS_COORDINATOR_HOST": "a b", "CITUS_COORDINATOR_PORT": "0",
			"CITUS_ADVERTISE_PORT": "70000", "CITUS_AUTO_REGISTER": "maybe", "CITUS_COORDINATOR_SSLMODE": "sure", "CITUS_ADVERTISE_HOST": "x'y"},
			wantVars: []string{EnvCoordinatorSSLMode, EnvAutoRegister, EnvCoordinatorPort, EnvAdvertisePort, EnvAdvertiseHost, EnvCoordinatorHost}},
		{name: "patroni group", env: map[string]string{"CITUS_GROUP": "2", "POSTGRES_DB": "app", "PATRONI_ENABLE": "true"},
			check: func(t *testing.T, c Config) {
				assert.True(t, c.Patroni())
				assert.Equal(t, 2, c.Group)
				assert.Equal(t, "", c.Role)
			}},
		{name: "patroni group and agreeing role", env: map[string]string{"CITUS_GROUP": "0", "CITUS_ROLE": "coordinator", "PATRONI_ENABLE": "1"},
			check: func(t *testing.T, c Config) { assert.Equal(t, RoleCoordinator, c.Role) }},
		{name: "patroni group contradicting role", env: map[string]string{"CITUS_GROUP": "1", "CITUS_ROLE": "coordinator", "PATRONI_ENABLE": "true"}, wantVars: []string{EnvRole}},
		{name: "bad group", env: map[string]string{"CITUS_GROUP": "-1", "PATRONI_ENABLE": "true"}, wantVars: []string{EnvGroup}},
		{name: "group without patroni", env: map[string]string{"CITUS_GROUP": "1"}, wantVars: []string{EnvGroup}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, problems := Load(tt.env)
			var vars []string
			for _, p := range problems {
				vars = append(vars, p.Var)
				assert.NotEmpty(t, p.Message)
			}
			require.Equal(t, tt.wantVars, vars, "%v", problems)
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestLoadNeverEchoesThePassword(t *testing.T) {
	_, problems := Load(map[string]string{"CITUS_ROLE": "bogus", "CITUS_COORDINATOR_PASSWORD": "hunter2", "CITUS_COORDINATOR_PORT": "x"})
	require.NotEmpty(t, problems)
	for _, p := range problems {
		assert.NotContains(t, p.Message, "hunter2")
	}
}
