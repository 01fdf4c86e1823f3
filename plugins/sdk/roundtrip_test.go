package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/pgdock/pgdock/plugins/sdk"
	"github.com/pgdock/pgdock/plugins/sdk/internal/echo"
	"github.com/pgdock/pgdock/plugins/sdk/sdktest"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestRoundTripEveryHook sends every hook through a real plugin process and
// checks that every field survives both directions.
func TestRoundTripEveryHook(t *testing.T) {
	transports := []struct {
		name    string
		connect func(t *testing.T) *sdk.Client
	}{
		{"go-plugin process", func(t *testing.T) *sdk.Client { _, c := launch(t, testPluginBin); return c }},
		{"in-process gRPC", inProcess},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { roundTrip(t, tr.connect(t)) })
	}
}

// inProcess serves a fresh echo.Echo in-process with sdktest.Serve: the same
// adapters as a plugin process, without go-plugin.
func inProcess(t *testing.T) *sdk.Client { return sdktest.Serve(t, &echo.Echo{}) }

func roundTrip(t *testing.T, c *sdk.Client) {
	env := map[string]string{"ECHO_A": "1", "ECHO_PASSWORD": "s3cret", "POSTGRES_DB": "app"}
	server := sdk.Server{PGData: "/data", Port: 5433, SocketDir: "/run/pg", Superuser: "admin", Database: "app", FirstBoot: true, FilesDir: "/run/pgdock/files/echo"}
	conn := sdk.Conn{SocketDir: "/run/pg", Port: 5433, User: "admin", Database: "postgres", PGData: "/data"}

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"describe", func(t *testing.T) {
			d, err := c.Describe(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, echo.Description(), d)
		}},
		{"validate", func(t *testing.T) {
			problems, err := c.Validate(ctx(t), env)
			require.NoError(t, err)
			assert.Equal(t, []sdk.Problem{{Var: "ECHO_A", Message: "1"}, {Var: "ECHO_PASSWORD", Message: "s3cret"}, {Var: "POSTGRES_DB", Message: "app"}}, problems)
		}},
		{"validate without env", func(t *testing.T) {
			problems, err := c.Validate(ctx(t), nil)
			require.NoError(t, err)
			assert.Empty(t, problems)
		}},
		{"configure", func(t *testing.T) {
			conf, err := c.Configure(ctx(t), sdk.ConfigureRequest{Env: map[string]string{"ECHO_A": "1"}, Server: server})
			require.NoError(t, err)
			assert.Equal(t, sdk.Configuration{
				Settings: []sdk.Setting{
					{Name: "echo.pgdata", Value: "/data"},
					{Name: "echo.port", Value: "5433"},
					{Name: "echo.socket_dir", Value: "/run/pg"},
					{Name: "echo.superuser", Value: "admin"},
					{Name: "echo.database", Value: "app"},
					{Name: "echo.first_boot", Value: "true"},
					{Name: "echo.files_dir", Value: "/run/pgdock/files/echo"},
					{Name: "echo.env.ECHO_A", Value: "1"},
				},
				HBARules: []string{"local all all trust", "host all all 192.0.2.0/24 reject"},
				Files:    []sdk.File{{Path: "sub/echo.bin", Content: []byte{0, 1, 2, 255, '\n'}, Mode: 0o640}},
				Sections: []sdk.Section{{Target: "patroni", Name: "echo", Content: []byte(`{"a":1}`)}},
				Jobs: []sdk.Job{{Name: "tick", Argv: []string{"sh", "-c", "true"}, Env: map[string]string{"A": "b"},
					Schedule: "@every 1s", PrimaryOnly: true, TimeoutSeconds: 7}},
				WantsBootstrap: true,
			}, conf)
		}},
		{"bootstrap then health", func(t *testing.T) {
			require.NoError(t, c.Bootstrap(ctx(t), sdk.HookRequest{Env: env, Conn: conn}))
			h, err := c.Health(ctx(t))
			require.NoError(t, err)
			assert.True(t, h.Healthy)
			assert.Equal(t, "echo", h.Message)
			assert.Equal(t, map[string]string{"socket_dir": "/run/pg", "port": "5433", "user": "admin", "database": "postgres", "pgdata": "/data", "stopping": "false",
				"role": "unspecified", "previous": "unspecified", "role_env": "0"}, h.Details)
		}},
		{"started", func(t *testing.T) {
			other := conn
			other.Port = 6000
			require.NoError(t, c.Started(ctx(t), sdk.HookRequest{Env: env, Conn: other, Role: sdk.RoleReplica}))
			h, err := c.Health(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, "6000", h.Details["port"])
			assert.Equal(t, "replica", h.Details["role"])
		}},
		{"mode status", func(t *testing.T) {
			st, err := c.ModeStatus(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, sdk.ModeStatus{Role: sdk.RoleReplica, PostmasterPID: 4242, Ready: true, Message: "echo replica"}, st)
		}},
		{"role changed", func(t *testing.T) {
			require.NoError(t, c.RoleChanged(ctx(t), sdk.RoleChange{Role: sdk.RolePrimary, Previous: sdk.RoleReplica, Env: env, Conn: conn}))
			h, err := c.Health(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, "primary", h.Details["role"])
			assert.Equal(t, "replica", h.Details["previous"])
			assert.Equal(t, "3", h.Details["role_env"])
			assert.Equal(t, "5433", h.Details["port"])
			st, err := c.ModeStatus(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, sdk.RolePrimary, st.Role)
			require.NoError(t, c.RoleChanged(ctx(t), sdk.RoleChange{Role: sdk.RoleNone, Previous: sdk.RolePrimary}))
			st, err = c.ModeStatus(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, sdk.RoleNone, st.Role)
		}},
		{"health with jobs", func(t *testing.T) {
			started := time.Unix(1700000000, 0)
			h, err := c.HealthWithJobs(ctx(t), sdk.HealthRequest{Jobs: map[string]sdk.JobResult{
				"full":    {Name: "full", Started: started, Finished: started.Add(90 * time.Second), ExitCode: 3, Error: "exit status 3"},
				"running": {Name: "running", Started: started, Running: true},
				"never":   {Name: "never"},
			}})
			require.NoError(t, err)
			assert.Equal(t, "full|3|exit status 3|false|1700000000|1700000090", h.Details["job.full"])
			assert.Equal(t, "running|0||true|1700000000|0", h.Details["job.running"])
			assert.Equal(t, "never|0||false|0|0", h.Details["job.never"])
			// A probe without results (pgdock-healthcheck) sees the last ones the host sent.
			h, err = c.Health(ctx(t))
			require.NoError(t, err)
			assert.Equal(t, "full|3|exit status 3|false|1700000000|1700000090", h.Details["job.full"])
		}},
		{"bootstrap provide", func(t *testing.T) {
			cmd, err := c.BootstrapProvide(ctx(t), sdk.BootstrapProvideRequest{Env: env, Server: server})
			require.NoError(t, err)
			assert.Equal(t, &sdk.BootstrapCommand{Argv: []string{"echo-restore", "/data"}, Env: env, Marker: "echo app"}, cmd)
			cmd, err = c.BootstrapProvide(ctx(t), sdk.BootstrapProvideRequest{Env: map[string]string{"ECHO_NO_MODE": "1"}})
			require.NoError(t, err)
			assert.Nil(t, cmd)
		}},
		{"mode command", func(t *testing.T) {
			merged := sdk.MergedConfig{
				Settings:         []sdk.Setting{{Name: "port", Value: "5433"}, {Name: "wal_level", Value: "logical"}},
				PreloadLibraries: []string{"citus", "pg_stat_statements"},
				HBARules:         []string{"local all all peer", "host all all all scram-sha-256"},
				Sections:         []sdk.Section{{Target: "echo", Name: "citus", Content: []byte(`{"group":0}`)}},
			}
			cmd, err := c.ModeCommand(ctx(t), sdk.ModeCommandRequest{Env: env, Server: server, Merged: merged})
			require.NoError(t, err)
			want := map[string]string{
				"MERGED_SETTING_port": "5433", "MERGED_SETTING_wal_level": "logical",
				"MERGED_PRELOAD_0": "citus", "MERGED_PRELOAD_1": "pg_stat_statements",
				"MERGED_HBA_0": "local all all peer", "MERGED_HBA_1": "host all all all scram-sha-256",
				"MERGED_SECTION_echo_citus": `{"group":0}`,
			}
			for k, v := range env {
				want[k] = v
			}
			assert.Equal(t, &sdk.Command{Argv: []string{"echo-mode", "/data"}, Env: want, Dir: "/run/pgdock/files/echo", StopSignal: "SIGINT", OwnsBootstrap: true}, cmd)
		}},
		{"mode command: files cross the wire", func(t *testing.T) {
			fenv := map[string]string{"ECHO_MODE_FILE": "conf/mode.yml"}
			cmd, err := c.ModeCommand(ctx(t), sdk.ModeCommandRequest{Env: fenv, Server: server})
			require.NoError(t, err)
			assert.Equal(t, []sdk.File{{Path: "conf/mode.yml", Content: []byte("mode of /data\n"), Mode: 0o640}}, cmd.Files)
		}},
		{"mode command: none", func(t *testing.T) {
			cmd, err := c.ModeCommand(ctx(t), sdk.ModeCommandRequest{Env: map[string]string{"ECHO_NO_MODE": "1"}})
			require.NoError(t, err)
			assert.Nil(t, cmd)
		}},
		{"hook errors reach the host as HookError", func(t *testing.T) {
			fail := map[string]string{echo.FailVar: "the plugin says no"}
			_, err := c.Validate(ctx(t), fail)
			assertHookError(t, err, "validate: the plugin says no")
			_, err = c.Configure(ctx(t), sdk.ConfigureRequest{Env: fail})
			assertHookError(t, err, "configure: the plugin says no")
			assertHookError(t, c.Bootstrap(ctx(t), sdk.HookRequest{Env: fail}), "bootstrap: the plugin says no")
			assertHookError(t, c.Started(ctx(t), sdk.HookRequest{Env: fail}), "started: the plugin says no")
			_, err = c.ModeCommand(ctx(t), sdk.ModeCommandRequest{Env: fail})
			assertHookError(t, err, "mode command: the plugin says no")
			assertHookError(t, c.RoleChanged(ctx(t), sdk.RoleChange{Env: fail}), "role changed: the plugin says no")
			_, err = c.BootstrapProvide(ctx(t), sdk.BootstrapProvideRequest{Env: fail})
			assertHookError(t, err, "bootstrap provide: the plugin says no")
		}},
		{"stopping", func(t *testing.T) {
			require.NoError(t, c.Stopping(ctx(t)))
			h, err := c.Health(ctx(t))
			require.NoError(t, err)
			assert.False(t, h.Healthy)
			assert.Equal(t, "true", h.Details["stopping"])
		}},
	}
	// Subtests run in order: "stopping" is last on purpose.
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func assertHookError(t *testing.T, err error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.True(t, sdk.IsHookError(err), "want a HookError, got %T: %v", err, err)
	assert.EqualError(t, err, want)
}

func TestGRPCPluginWithoutImpl(t *testing.T) {
	err := (&sdk.GRPCPlugin{}).GRPCServer(nil, grpc.NewServer())
	require.ErrorContains(t, err, "Impl is nil")
}

// TestTransportErrors: a plugin that is gone is not a hook error.
func TestTransportErrors(t *testing.T) {
	pc, c := launch(t, testPluginBin)
	pc.Kill()
	_, err := c.Health(ctx(t))
	require.Error(t, err)
	assert.False(t, sdk.IsHookError(err))
	assert.Contains(t, err.Error(), "health: plugin unreachable")
}

// minimal implements only the original hooks (an older plugin).
type minimal struct{ sdk.Base }

func (minimal) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{Name: "minimal"}, nil
}

// TestOptionalHooksOfAnOlderPlugin: a plugin written before the optional
// hooks existed compiles unchanged and gets neutral answers.
func TestOptionalHooksOfAnOlderPlugin(t *testing.T) {
	c := sdktest.Serve(t, minimal{})
	d, err := c.Describe(ctx(t))
	require.NoError(t, err)
	assert.Empty(t, d.After)
	assert.False(t, d.ProvidesBootstrap)
	conf, err := c.Configure(ctx(t), sdk.ConfigureRequest{})
	require.NoError(t, err)
	assert.Equal(t, sdk.Configuration{}, conf)
	require.NoError(t, c.RoleChanged(ctx(t), sdk.RoleChange{Role: sdk.RolePrimary}))
	h, err := c.HealthWithJobs(ctx(t), sdk.HealthRequest{Jobs: map[string]sdk.JobResult{"x": {Name: "x"}}})
	require.NoError(t, err)
	assert.True(t, h.Healthy)
	_, err = c.ModeStatus(ctx(t))
	require.ErrorContains(t, err, "mode status: plugin does not implement this hook")
	assert.False(t, sdk.IsHookError(err))
	_, err = c.BootstrapProvide(ctx(t), sdk.BootstrapProvideRequest{})
	require.ErrorContains(t, err, "bootstrap provide: plugin does not implement this hook")
}

func TestRoleStrings(t *testing.T) {
	for _, r := range []sdk.Role{sdk.RoleUnspecified, sdk.RoleNone, sdk.RolePrimary, sdk.RoleReplica} {
		assert.Equal(t, r, sdk.ParseRole(r.String()))
	}
	assert.Equal(t, sdk.RoleUnspecified, sdk.ParseRole("leader"))
}
