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
}

var _ sdk.Plugin = (*Echo)(nil)

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

// Started records the connection.
func (e *Echo) Started(ctx context.Context, req sdk.HookRequest) error { return e.Bootstrap(ctx, req) }

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
	return &sdk.Command{Argv: []string{"echo-mode", req.Server.PGData}, Env: req.Env, Dir: req.Server.FilesDir, StopSignal: "SIGINT"}, nil
}
