package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// This file makes faulty a FAKE mode provider, a FAKE bootstrap provider and
// a plugin with a job, for the host's tests only. The FAKE mode provider
// stands in for Patroni: its command is a shell that runs postgres as its
// child (so the supervised mode child is not postgres), forwards stop and
// reload signals to it, and, when it owns bootstrap, runs initdb itself and
// calls `pgdock-entrypoint hook post-bootstrap` once the server is up.

// fakeModeScript is the FAKE mode provider's command (sh -c). It exits with
// postgres's status; 1 when the post-bootstrap callback fails.
const fakeModeScript = `set -u
bin=$FAKE_BINDIR
first=
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ "$FAKE_OWNS_BOOTSTRAP" != true ]; then echo "fake mode: PGDATA is empty and the host should have run initdb" >&2; exit 1; fi
  echo "fake mode: running initdb myself" >&2
  "$bin/initdb" -D "$PGDATA" -U "$FAKE_SUPERUSER" --auth=trust --no-sync >&2 || exit 1
  first=1
fi
"$bin/postgres" -D "$PGDATA" -p "$PGPORT" -c "unix_socket_directories=$FAKE_SOCKET" -c listen_addresses=127.0.0.1 -c fsync=off &
pid=$!
trap 'echo "fake mode: stop requested" >&2; kill -INT $pid' TERM
trap 'echo "fake mode: reload" >&2; kill -HUP $pid' HUP
if [ -n "$first" ]; then
  until "$bin/pg_isready" -q -h "$FAKE_SOCKET" -p "$PGPORT"; do
    kill -0 $pid 2>/dev/null || exit 1
    sleep 0.1
  done
  if ! "$FAKE_ENTRYPOINT" hook post-bootstrap "dbname=postgres"; then
    echo "fake mode: post-bootstrap failed" >&2
    kill -INT $pid; wait $pid; exit 1
  fi
fi
while :; do
  wait $pid
  st=$?
  kill -0 $pid 2>/dev/null || exit $st
done
`

func (p *plugin) fakeModeCommand(req sdk.ModeCommandRequest) *sdk.Command {
	p.mu.Lock()
	p.pgdata = req.Server.PGData
	p.mu.Unlock()
	entry := p.knobs.ModeEntrypoint
	if entry == "" {
		entry = "pgdock-entrypoint"
	}
	return &sdk.Command{
		Argv: []string{"sh", "-c", fakeModeScript},
		Env: map[string]string{
			"PATH":                os.Getenv("PATH"),
			"PGDATA":              req.Server.PGData,
			"PGPORT":              strconv.Itoa(req.Server.Port),
			"FAKE_BINDIR":         p.knobs.BinDir,
			"FAKE_SOCKET":         req.Server.SocketDir,
			"FAKE_SUPERUSER":      req.Server.Superuser,
			"FAKE_ENTRYPOINT":     entry,
			"FAKE_OWNS_BOOTSTRAP": strconv.FormatBool(p.knobs.ModeOwnsBootstrap),
			"FAKE_MERGED_PORT":    mergedSetting(req.Merged, "port"),
			"FAKE_MERGED_HBA":     strings.Join(req.Merged.HBARules, ";"),
			"FAKE_SECTIONS":       sectionList(req.Merged.Sections),
		},
		StopSignal:    "SIGTERM",
		OwnsBootstrap: p.knobs.ModeOwnsBootstrap,
	}
}

func mergedSetting(m sdk.MergedConfig, name string) string {
	for _, s := range m.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

// ModeStatus reads postmaster.pid like Patroni would learn it from
// postgres: ready once the status line says ready or standby; the role is
// the content of <NAME>_MODE_ROLE_FILE when it exists, else primary when
// ready ("standby": replica).
func (p *plugin) ModeStatus(context.Context) (sdk.ModeStatus, error) {
	p.mu.Lock()
	pgdata := p.pgdata
	p.mu.Unlock()
	var st sdk.ModeStatus
	data, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		st.Message = "no postmaster"
		st.Role = sdk.RoleNone
		return st, nil
	}
	lines := strings.Split(string(data), "\n")
	st.PostmasterPID, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	status := ""
	if len(lines) > 7 {
		status = strings.TrimSpace(lines[7])
	}
	st.Ready = status == "ready" || status == "standby"
	st.Message = "postmaster " + status
	switch {
	case !st.Ready:
		st.Role = sdk.RoleNone
	case status == "standby":
		st.Role = sdk.RoleReplica
	default:
		st.Role = sdk.RolePrimary
	}
	if p.knobs.ModeRoleFile != "" {
		if b, err := os.ReadFile(p.knobs.ModeRoleFile); err == nil {
			st.Role = sdk.ParseRole(strings.TrimSpace(string(b)))
		}
	}
	return st, nil
}

// RoleChanged logs the change (tests read it in the container output).
func (p *plugin) RoleChanged(_ context.Context, req sdk.RoleChange) error {
	p.log.Info("role changed", "role", req.Role.String(), "previous", req.Previous.String())
	return nil
}

// Started logs the role it was started with.
func (p *plugin) Started(_ context.Context, req sdk.HookRequest) error {
	p.log.Info("started hook", "role", req.Role.String())
	if d := p.knobs.CrashAfterStarted; d > 0 {
		go func() {
			time.Sleep(d)
			p.log.Error("crashing on purpose", "after_started", d.String(), "exit_status", 3)
			os.Exit(3)
		}()
	}
	return nil
}

// Configure contributes the knobs' hba rule and job, and asks to provide
// the first boot as a FAKE bootstrap provider.
func (p *plugin) Configure(_ context.Context, req sdk.ConfigureRequest) (sdk.Configuration, error) {
	var c sdk.Configuration
	if p.knobs.HBA != "" {
		c.HBARules = []string{p.knobs.HBA}
	}
	if p.knobs.JobSchedule != "" {
		c.Jobs = []sdk.Job{{
			Name: "tick", Argv: []string{"sh", "-c", p.knobs.JobCommand},
			Env: map[string]string{
				"PATH": os.Getenv("PATH"), "PGDATA": req.Server.PGData,
				"PGHOST": req.Server.SocketDir, "PGPORT": strconv.Itoa(req.Server.Port),
			},
			Schedule: p.knobs.JobSchedule, PrimaryOnly: true, TimeoutSeconds: int(p.knobs.JobTimeout.Seconds()),
		}}
	}
	if target, rest, ok := strings.Cut(p.knobs.Section, ":"); ok {
		name, content, _ := strings.Cut(rest, ":")
		c.Sections = []sdk.Section{{Target: target, Name: name, Content: []byte(content)}}
	}
	c.WantsBootstrap = p.knobs.ProvideBootstrap && req.Server.FirstBoot
	return c, nil
}

// BootstrapProvide (FAKE bootstrap provider) runs initdb into the directory
// the host gives, as a restore would fill it.
func (p *plugin) BootstrapProvide(_ context.Context, req sdk.BootstrapProvideRequest) (*sdk.BootstrapCommand, error) {
	return &sdk.BootstrapCommand{
		Argv:   []string{filepath.Join(p.knobs.BinDir, "initdb"), "-D", req.Server.PGData, "-U", req.Server.Superuser, "--auth=trust", "--no-sync"},
		Env:    map[string]string{"PATH": os.Getenv("PATH"), "LANG": "C.UTF-8"},
		Marker: "faulty fake bootstrap",
	}, nil
}

// HealthWithJobs reports the jobs' last results: details job.<name> =
// "exit=<code> running=<bool> error=<text>".
func (p *plugin) HealthWithJobs(_ context.Context, req sdk.HealthRequest) (sdk.Health, error) {
	h := sdk.Health{Healthy: true, Details: map[string]string{}}
	for k, r := range req.Jobs {
		h.Details["job."+k] = "exit=" + strconv.Itoa(r.ExitCode) + " running=" + strconv.FormatBool(r.Running) + " error=" + r.Error
	}
	return h, nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func sectionList(in []sdk.Section) string {
	var out []string
	for _, s := range in {
		out = append(out, s.Name+"="+string(s.Content))
	}
	return strings.Join(out, ",")
}
