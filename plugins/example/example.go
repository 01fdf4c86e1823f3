package example

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Name is the plugin's name: the binary is pgdock-plugin-example and
// EXAMPLE_ENABLE=true switches it on.
const Name = "example"

// Version is the example plugin's own version.
const Version = "0.1.0"

// Variables the example reads.
const (
	EnvGreeting       = "EXAMPLE_GREETING"         // value of pgdock_example.greeting, default "hello"
	EnvHealthFailFile = "EXAMPLE_HEALTH_FAIL_FILE" // health turns bad while this file exists
	EnvToken          = "EXAMPLE_TOKEN"            // a secret, to show the flag; unused
	DefaultGreeting   = "hello"
	MaxGreetingLength = 64
	BootstrapTable    = "pgdock_example_bootstrap"
	ConfFile          = "example.conf"
	HBARule           = "host all all 192.0.2.0/24 reject"
	SettingGreeting   = "pgdock_example.greeting"
	SettingEnabled    = "pgdock_example.enabled"
)

// Plugin implements sdk.Plugin.
type Plugin struct {
	sdk.Base // neutral defaults for hooks the example does not implement (ModeCommand)

	log hclog.Logger
	// getenv reads the process environment (PATH for psql).
	getenv func(string) string
	stdout io.Writer // nil means os.Stdout at the time of writing

	mu      sync.Mutex
	lastEnv map[string]string // declared env of the latest Validate/Configure call
}

var _ sdk.Plugin = (*Plugin)(nil)

// New returns the example plugin.
func New(log hclog.Logger, getenv func(string) string) *Plugin {
	return &Plugin{log: log, getenv: getenv}
}

// Describe declares the EXAMPLE_ namespace, one static setting and psql.
func (p *Plugin) Describe(context.Context) (sdk.Description, error) {
	return sdk.Description{
		Name:    Name,
		Version: Version,
		Env: []sdk.EnvVar{
			{Name: sdk.EnvPrefix(Name), Prefix: true, Description: "everything the example plugin reads"},
			{Name: EnvToken, Secret: true, Description: "an example secret (masked in logs)"},
		},
		Settings: []sdk.Setting{{Name: SettingEnabled, Value: "on"}},
		// A real plugin that needs a library preloaded declares it here, e.g.
		// {Name: "citus", Order: sdk.PreloadFirst}. The example has no library.
		PreloadLibraries: nil,
		RequiredBinaries: []sdk.Requirement{{Name: "psql", Package: "postgresql-client"}},
		// ProvidesMode names a run mode the plugin runs instead of postgres
		// (e.g. "patroni"); the example provides none.
	}, nil
}

// Validate checks EXAMPLE_GREETING. Report every problem, each naming its
// variable.
func (p *Plugin) Validate(_ context.Context, env map[string]string) ([]sdk.Problem, error) {
	p.remember(env)
	var problems []sdk.Problem
	if g, ok := env[EnvGreeting]; ok {
		switch n := utf8.RuneCountInString(g); {
		case n == 0:
			problems = append(problems, sdk.Problem{Var: EnvGreeting, Message: "must not be empty (unset it for the default \"hello\")"})
		case n > MaxGreetingLength:
			problems = append(problems, sdk.Problem{Var: EnvGreeting, Message: fmt.Sprintf("is %d characters long, at most %d are accepted", n, MaxGreetingLength)})
		}
	}
	return problems, nil
}

// Configure contributes the greeting setting, a reject rule and example.conf.
func (p *Plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	p.remember(req.Env)
	g := greeting(req.Env)
	conf := fmt.Sprintf("# written by pgdock for the example plugin\ngreeting = %s\nfirst_boot = %t\nport = %d\n",
		strconv.Quote(g), req.Server.FirstBoot, req.Server.Port)
	return sdk.Configuration{
		Settings: []sdk.Setting{{Name: SettingGreeting, Value: g}},
		HBARules: []string{HBARule},
		Files:    []sdk.File{{Path: ConfFile, Content: []byte(conf), Mode: 0o600}},
	}, nil
}

// Bootstrap records its (only) run in table pgdock_example_bootstrap, through
// the temporary server's unix socket with psql. A second run is an error: the
// host must call Bootstrap on first boot only.
func (p *Plugin) Bootstrap(ctx context.Context, req sdk.HookRequest) error {
	db := req.Conn.Database
	if db == "" {
		db = "postgres"
	}
	script := `CREATE TABLE IF NOT EXISTS ` + BootstrapTable + ` (
  ran_at   timestamptz NOT NULL DEFAULT now(),
  greeting text        NOT NULL
);
LOCK TABLE ` + BootstrapTable + `;
SELECT count(*) > 0 AS already_ran FROM ` + BootstrapTable + ` \gset
\if :already_ran
  \warn 'pgdock example plugin: bootstrap already ran; the host must call it on first boot only'
  SELECT 1/0 AS bootstrap_already_ran;
\endif
INSERT INTO ` + BootstrapTable + ` (greeting) VALUES (:'greeting');
`
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
		"-v", "greeting="+greeting(req.Env),
		"-h", req.Conn.SocketDir, "-p", strconv.Itoa(req.Conn.Port), "-U", req.Conn.User, "-d", db, "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = []string{"PATH=" + p.getenv("PATH"), "PGAPPNAME=pgdock-plugin-example", "PGCONNECT_TIMEOUT=10"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("record bootstrap in %s.%s: %w: %s", db, BootstrapTable, err, strings.TrimSpace(out.String()))
	}
	p.log.Info("bootstrap recorded", "database", db, "table", BootstrapTable)
	return nil
}

// Started logs.
func (p *Plugin) Started(_ context.Context, req sdk.HookRequest) error {
	p.log.Info("postgres is ready", "port", req.Conn.Port, "greeting", greeting(req.Env))
	return nil
}

// Health is good unless the file named by EXAMPLE_HEALTH_FAIL_FILE exists.
// Details list the variable names the plugin received, which tests use to
// check the host's env filtering.
func (p *Plugin) Health(context.Context) (sdk.Health, error) {
	env := p.env()
	details := map[string]string{
		"greeting":         greeting(env),
		"env_keys":         strings.Join(slices.Sorted(maps.Keys(env)), ","),
		"process_env_keys": strings.Join(processEnvKeys(), ","),
	}
	failFile := env[EnvHealthFailFile]
	if failFile == "" {
		failFile = p.getenv(EnvHealthFailFile)
	}
	if failFile != "" {
		if _, err := os.Stat(failFile); err == nil {
			return sdk.Health{Healthy: false, Message: "health fail file " + failFile + " exists", Details: details}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return sdk.Health{Healthy: false, Message: err.Error(), Details: details}, nil
		}
	}
	return sdk.Health{Healthy: true, Message: "ok", Details: details}, nil
}

// Stopping logs, once through the logger and once as a plain stdout line
// (after sdk.Serve the host forwards stdout lines too, at info level).
func (p *Plugin) Stopping(context.Context) error {
	p.log.Info("stopping")
	// os.Stdout is read now, not in New: sdk.Serve replaced it since.
	out := p.stdout
	if out == nil {
		out = os.Stdout
	}
	fmt.Fprintln(out, "example plugin: stopping (plain stdout line)")
	return nil
}

// ModeCommand is not implemented: the host calls it only for a plugin whose
// Description.ProvidesMode is set, and the example provides no run mode (it
// inherits the method from sdk.Base).

func (p *Plugin) remember(env map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastEnv = maps.Clone(env)
}

func (p *Plugin) env() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.lastEnv)
}

func greeting(env map[string]string) string {
	if g := env[EnvGreeting]; g != "" {
		return g
	}
	return DefaultGreeting
}

func processEnvKeys() []string {
	var keys []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
