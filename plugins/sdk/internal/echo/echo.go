package echo

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Echo is a plugin that echoes its inputs back.
type Echo struct {
	mu       sync.Mutex
	conn     sdk.Conn
	stopping bool
	role     sdk.Role // from Started or RoleChanged
	previous sdk.Role // from RoleChanged
	roleEnv  map[string]string
}

var (
	_ sdk.Plugin             = (*Echo)(nil)
	_ sdk.ModeStatusReporter = (*Echo)(nil)
	_ sdk.RoleObserver       = (*Echo)(nil)
	_ sdk.BootstrapProvider  = (*Echo)(nil)
	_ sdk.JobHealthReporter  = (*Echo)(nil)
)

// FailVar makes every hook that receives env fail when set to a message.
const FailVar = "ECHO_FAIL"

// Description is what Echo describes: every field set.
func Description() sdk.Description {
	return sdk.Description{
		Name:    "echo",
		Version: "1.2.3",
		Env: []sdk.EnvVar{
			{Name: "ECHO_", Prefix: true, Description: "echo namespace"},
			{Name: "ECHO_PASSWORD", Secret: true, Description: "a secret"},
			{Name: "POSTGRES_DB"},
		},
		Settings:           []sdk.Setting{{Name: "echo.static", Value: "on"}},
		PreloadLibraries:   []sdk.PreloadLibrary{{Name: "echo_first", Order: sdk.PreloadFirst}, {Name: "echo_late", Order: 10}},
		RequiredBinaries:   []sdk.Requirement{{Name: "sh", Package: "dash"}},
		RequiredExtensions: []sdk.Requirement{{Name: "echo_ext", Package: "postgresql-15-echo"}},
		ProvidesMode:       "echo",
		After:              []string{"alpha", "beta"},
		ProvidesBootstrap:  true,
	}
}

// Describe returns Description().
func (e *Echo) Describe(context.Context) (sdk.Description, error) { return Description(), nil }

// Validate returns one problem per variable: Var = name, Message = value.
func (e *Echo) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	if msg := env[FailVar]; msg != "" {
		return nil, errors.New(msg)
	}
	var out []sdk.Problem
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, sdk.Problem{Var: k, Message: env[k]})
	}
	return out, nil
}

// Configure returns the server fields as settings, plus the env as
// settings echo.env.<name>, one hba rule and one binary file.
func (e *Echo) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	if msg := req.Env[FailVar]; msg != "" {
		return sdk.Configuration{}, errors.New(msg)
	}
	s := req.Server
	c := sdk.Configuration{
		Settings: []sdk.Setting{
			{Name: "echo.pgdata", Value: s.PGData},
			{Name: "echo.port", Value: strconv.Itoa(s.Port)},
			{Name: "echo.socket_dir", Value: s.SocketDir},
			{Name: "echo.superuser", Value: s.Superuser},
			{Name: "echo.database", Value: s.Database},
			{Name: "echo.first_boot", Value: strconv.FormatBool(s.FirstBoot)},
			{Name: "echo.files_dir", Value: s.FilesDir},
		},
		HBARules: []string{"local all all trust", "host all all 192.0.2.0/24 reject"},
		Files:    []sdk.File{{Path: "sub/echo.bin", Content: []byte{0, 1, 2, 255, '\n'}, Mode: 0o640}},
		Sections: []sdk.Section{{Target: "patroni", Name: "echo", Content: []byte(`{"a":1}`)}},
		Jobs: []sdk.Job{{Name: "tick", Argv: []string{"sh", "-c", "true"}, Env: map[string]string{"A": "b"},
			Schedule: "@every 1s", PrimaryOnly: true, TimeoutSeconds: 7}},
		WantsBootstrap: s.FirstBoot,
	}
	for _, k := range slices.Sorted(maps.Keys(req.Env)) {
		c.Settings = append(c.Settings, sdk.Setting{Name: "echo.env." + k, Value: req.Env[k]})
	}
	return c, nil
}

// Bootstrap records the connection.
func (e *Echo) Bootstrap(_ context.Context, req sdk.HookRequest) error {
	if msg := req.Env[FailVar]; msg != "" {
		return errors.New(msg)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.conn = req.Conn
	return nil
}

// Started records the connection and the role.
func (e *Echo) Started(ctx context.Context, req sdk.HookRequest) error {
	if err := e.Bootstrap(ctx, req); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.role = req.Role
	return nil
}

// RoleChanged records the connection, roles and env (see Health).
func (e *Echo) RoleChanged(_ context.Context, req sdk.RoleChange) error {
	if msg := req.Env[FailVar]; msg != "" {
		return errors.New(msg)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.conn, e.role, e.previous, e.roleEnv = req.Conn, req.Role, req.Previous, req.Env
	return nil
}

// ModeStatus reports the last role it was told, ready, with the pid 4242.
func (e *Echo) ModeStatus(context.Context) (sdk.ModeStatus, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return sdk.ModeStatus{Role: e.role, PostmasterPID: 4242, Ready: true, Message: "echo " + e.role.String()}, nil
}

// BootstrapProvide returns ["echo-restore", pgdata] with the env, marker
// "echo <database>"; nil when ECHO_NO_MODE is set.
func (e *Echo) BootstrapProvide(_ context.Context, req sdk.BootstrapProvideRequest) (*sdk.BootstrapCommand, error) {
	if msg := req.Env[FailVar]; msg != "" {
		return nil, errors.New(msg)
	}
	if req.Env["ECHO_NO_MODE"] != "" {
		return nil, nil
	}
	return &sdk.BootstrapCommand{Argv: []string{"echo-restore", req.Server.PGData}, Env: req.Env, Marker: "echo " + req.Server.Database}, nil
}

// HealthWithJobs is Health plus, per job, details job.<key> =
// "<name>|<exit>|<error>|<running>|<started unix>|<finished unix>".
func (e *Echo) HealthWithJobs(ctx context.Context, req sdk.HealthRequest) (sdk.Health, error) {
	h, err := e.Health(ctx)
	if err != nil {
		return h, err
	}
	for k, r := range req.Jobs {
		var started, finished int64
		if !r.Started.IsZero() {
			started = r.Started.Unix()
		}
		if !r.Finished.IsZero() {
			finished = r.Finished.Unix()
		}
		h.Details["job."+k] = r.Name + "|" + strconv.Itoa(r.ExitCode) + "|" + r.Error + "|" + strconv.FormatBool(r.Running) +
			"|" + strconv.FormatInt(started, 10) + "|" + strconv.FormatInt(finished, 10)
	}
	return h, nil
}

// Health reports the last connection and whether Stopping was called.
func (e *Echo) Health(context.Context) (sdk.Health, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return sdk.Health{
		Healthy: !e.stopping,
		Message: "echo",
		Details: map[string]string{
			"socket_dir": e.conn.SocketDir,
			"port":       strconv.Itoa(e.conn.Port),
			"user":       e.conn.User,
			"database":   e.conn.Database,
			"pgdata":     e.conn.PGData,
			"stopping":   strconv.FormatBool(e.stopping),
			"role":       e.role.String(),
			"previous":   e.previous.String(),
			"role_env":   strconv.Itoa(len(e.roleEnv)),
		},
	}, nil
}

// Stopping marks the plugin as stopping (Health turns false).
func (e *Echo) Stopping(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopping = true
	return nil
}

// ModeCommand returns ["echo-mode", pgdata] with the env and files dir.
func (e *Echo) ModeCommand(_ context.Context, req sdk.ModeCommandRequest) (*sdk.Command, error) {
	if msg := req.Env[FailVar]; msg != "" {
		return nil, errors.New(msg)
	}
	if req.Env["ECHO_NO_MODE"] != "" {
		return nil, nil
	}
	m := req.Merged
	env := maps.Clone(req.Env)
	if env == nil {
		env = map[string]string{}
	}
	// The merged configuration comes back in the env, so a test sees it.
	for _, s := range m.Settings {
		env["MERGED_SETTING_"+s.Name] = s.Value
	}
	for i, l := range m.PreloadLibraries {
		env["MERGED_PRELOAD_"+strconv.Itoa(i)] = l
	}
	for i, r := range m.HBARules {
		env["MERGED_HBA_"+strconv.Itoa(i)] = r
	}
	for _, sec := range m.Sections {
		env["MERGED_SECTION_"+sec.Target+"_"+sec.Name] = string(sec.Content)
	}
	cmd := &sdk.Command{Argv: []string{"echo-mode", req.Server.PGData}, Env: env, Dir: req.Server.FilesDir, StopSignal: "SIGINT",
		OwnsBootstrap: req.Server.FirstBoot}
	if f := req.Env["ECHO_MODE_FILE"]; f != "" { // a file for the host to write before it starts the command
		cmd.Files = []sdk.File{{Path: f, Content: []byte("mode of " + req.Server.PGData + "\n"), Mode: 0o640}}
	}
	return cmd, nil
}
