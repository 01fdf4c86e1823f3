package sdk

import (
	"os"
	"time"

	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
)

// Conversions between the Go types of this package and the generated
// protobuf messages. Both directions live here so that a new field is added
// in one place.

func descriptionToProto(d Description) *pb.DescribeResponse {
	out := &pb.DescribeResponse{
		Name:               d.Name,
		Version:            d.Version,
		Settings:           settingsToProto(d.Settings),
		RequiredBinaries:   requirementsToProto(d.RequiredBinaries),
		RequiredExtensions: requirementsToProto(d.RequiredExtensions),
		ProvidesMode:       d.ProvidesMode,
		After:              d.After,
		ProvidesBootstrap:  d.ProvidesBootstrap,
	}
	for _, e := range d.Env {
		out.Env = append(out.Env, &pb.EnvVar{Name: e.Name, Prefix: e.Prefix, Secret: e.Secret, Description: e.Description})
	}
	for _, l := range d.PreloadLibraries {
		out.PreloadLibraries = append(out.PreloadLibraries, &pb.PreloadLibrary{Name: l.Name, Order: int32(l.Order)})
	}
	return out
}

func descriptionFromProto(r *pb.DescribeResponse) Description {
	d := Description{
		Name:               r.GetName(),
		Version:            r.GetVersion(),
		Settings:           settingsFromProto(r.GetSettings()),
		RequiredBinaries:   requirementsFromProto(r.GetRequiredBinaries()),
		RequiredExtensions: requirementsFromProto(r.GetRequiredExtensions()),
		ProvidesMode:       r.GetProvidesMode(),
		After:              r.GetAfter(),
		ProvidesBootstrap:  r.GetProvidesBootstrap(),
	}
	for _, e := range r.GetEnv() {
		d.Env = append(d.Env, EnvVar{Name: e.GetName(), Prefix: e.GetPrefix(), Secret: e.GetSecret(), Description: e.GetDescription()})
	}
	for _, l := range r.GetPreloadLibraries() {
		d.PreloadLibraries = append(d.PreloadLibraries, PreloadLibrary{Name: l.GetName(), Order: int(l.GetOrder())})
	}
	return d
}

func settingsToProto(in []Setting) []*pb.Setting {
	var out []*pb.Setting
	for _, s := range in {
		out = append(out, &pb.Setting{Name: s.Name, Value: s.Value})
	}
	return out
}

func settingsFromProto(in []*pb.Setting) []Setting {
	var out []Setting
	for _, s := range in {
		out = append(out, Setting{Name: s.GetName(), Value: s.GetValue()})
	}
	return out
}

func requirementsToProto(in []Requirement) []*pb.Requirement {
	var out []*pb.Requirement
	for _, r := range in {
		out = append(out, &pb.Requirement{Name: r.Name, Package: r.Package})
	}
	return out
}

func requirementsFromProto(in []*pb.Requirement) []Requirement {
	var out []Requirement
	for _, r := range in {
		out = append(out, Requirement{Name: r.GetName(), Package: r.GetPackage()})
	}
	return out
}

func problemsToProto(in []Problem) []*pb.Problem {
	var out []*pb.Problem
	for _, p := range in {
		out = append(out, &pb.Problem{Var: p.Var, Message: p.Message})
	}
	return out
}

func problemsFromProto(in []*pb.Problem) []Problem {
	var out []Problem
	for _, p := range in {
		out = append(out, Problem{Var: p.GetVar(), Message: p.GetMessage()})
	}
	return out
}

func serverToProto(s Server) *pb.Server {
	return &pb.Server{
		Pgdata:    s.PGData,
		Port:      int32(s.Port),
		SocketDir: s.SocketDir,
		Superuser: s.Superuser,
		Database:  s.Database,
		FirstBoot: s.FirstBoot,
		FilesDir:  s.FilesDir,
	}
}

func serverFromProto(s *pb.Server) Server {
	return Server{
		PGData:    s.GetPgdata(),
		Port:      int(s.GetPort()),
		SocketDir: s.GetSocketDir(),
		Superuser: s.GetSuperuser(),
		Database:  s.GetDatabase(),
		FirstBoot: s.GetFirstBoot(),
		FilesDir:  s.GetFilesDir(),
	}
}

func configurationToProto(c Configuration) *pb.ConfigureResponse {
	out := &pb.ConfigureResponse{Settings: settingsToProto(c.Settings), HbaRules: c.HBARules,
		Sections: sectionsToProto(c.Sections), WantsBootstrap: c.WantsBootstrap}
	for _, f := range c.Files {
		out.Files = append(out.Files, &pb.File{Path: f.Path, Content: f.Content, Mode: uint32(f.Mode.Perm())})
	}
	for _, j := range c.Jobs {
		out.Jobs = append(out.Jobs, &pb.Job{Name: j.Name, Argv: j.Argv, Env: j.Env, Schedule: j.Schedule,
			PrimaryOnly: j.PrimaryOnly, TimeoutSeconds: int32(j.TimeoutSeconds)})
	}
	return out
}

func configurationFromProto(r *pb.ConfigureResponse) Configuration {
	c := Configuration{Settings: settingsFromProto(r.GetSettings()), HBARules: r.GetHbaRules(),
		Sections: sectionsFromProto(r.GetSections()), WantsBootstrap: r.GetWantsBootstrap()}
	for _, f := range r.GetFiles() {
		c.Files = append(c.Files, File{Path: f.GetPath(), Content: f.GetContent(), Mode: os.FileMode(f.GetMode()).Perm()})
	}
	for _, j := range r.GetJobs() {
		c.Jobs = append(c.Jobs, Job{Name: j.GetName(), Argv: j.GetArgv(), Env: j.GetEnv(), Schedule: j.GetSchedule(),
			PrimaryOnly: j.GetPrimaryOnly(), TimeoutSeconds: int(j.GetTimeoutSeconds())})
	}
	return c
}

func connToProto(c Conn) *pb.Connection {
	return &pb.Connection{SocketDir: c.SocketDir, Port: int32(c.Port), User: c.User, Database: c.Database, Pgdata: c.PGData}
}

func connFromProto(c *pb.Connection) Conn {
	return Conn{SocketDir: c.GetSocketDir(), Port: int(c.GetPort()), User: c.GetUser(), Database: c.GetDatabase(), PGData: c.GetPgdata()}
}

func healthToProto(h Health) *pb.HealthResponse {
	return &pb.HealthResponse{Healthy: h.Healthy, Degraded: h.Degraded, Message: h.Message, Details: h.Details}
}

// healthFromProto applies the protocol's rule on the receiving side, like
// probe's decoder: degraded counts only with healthy.
func healthFromProto(r *pb.HealthResponse) Health {
	return Health{Healthy: r.GetHealthy(), Degraded: r.GetDegraded() && r.GetHealthy(), Message: r.GetMessage(), Details: r.GetDetails()}
}

func commandToProto(c *Command) *pb.ModeCommandResponse {
	if c == nil {
		return &pb.ModeCommandResponse{}
	}
	out := &pb.ModeCommandResponse{Argv: c.Argv, Env: c.Env, Dir: c.Dir, StopSignal: c.StopSignal, OwnsBootstrap: c.OwnsBootstrap}
	for _, f := range c.Files {
		out.Files = append(out.Files, &pb.File{Path: f.Path, Content: f.Content, Mode: uint32(f.Mode.Perm())})
	}
	return out
}

func commandFromProto(r *pb.ModeCommandResponse) *Command {
	if len(r.GetArgv()) == 0 {
		return nil
	}
	c := &Command{Argv: r.GetArgv(), Env: r.GetEnv(), Dir: r.GetDir(), StopSignal: r.GetStopSignal(), OwnsBootstrap: r.GetOwnsBootstrap()}
	for _, f := range r.GetFiles() {
		c.Files = append(c.Files, File{Path: f.GetPath(), Content: f.GetContent(), Mode: os.FileMode(f.GetMode()).Perm()})
	}
	return c
}

func sectionsToProto(in []Section) []*pb.Section {
	var out []*pb.Section
	for _, s := range in {
		out = append(out, &pb.Section{Target: s.Target, Name: s.Name, Content: s.Content})
	}
	return out
}

func sectionsFromProto(in []*pb.Section) []Section {
	var out []Section
	for _, s := range in {
		out = append(out, Section{Target: s.GetTarget(), Name: s.GetName(), Content: s.GetContent()})
	}
	return out
}

func mergedToProto(m MergedConfig) *pb.MergedConfig {
	return &pb.MergedConfig{Settings: settingsToProto(m.Settings), PreloadLibraries: m.PreloadLibraries,
		HbaRules: m.HBARules, Sections: sectionsToProto(m.Sections)}
}

func mergedFromProto(m *pb.MergedConfig) MergedConfig {
	return MergedConfig{Settings: settingsFromProto(m.GetSettings()), PreloadLibraries: m.GetPreloadLibraries(),
		HBARules: m.GetHbaRules(), Sections: sectionsFromProto(m.GetSections())}
}

func roleToProto(r Role) pb.Role {
	switch r {
	case RoleNone:
		return pb.Role_ROLE_NONE
	case RolePrimary:
		return pb.Role_ROLE_PRIMARY
	case RoleReplica:
		return pb.Role_ROLE_REPLICA
	default:
		return pb.Role_ROLE_UNSPECIFIED
	}
}

func roleFromProto(r pb.Role) Role {
	switch r {
	case pb.Role_ROLE_NONE:
		return RoleNone
	case pb.Role_ROLE_PRIMARY:
		return RolePrimary
	case pb.Role_ROLE_REPLICA:
		return RoleReplica
	default:
		return RoleUnspecified
	}
}

func modeStatusToProto(s ModeStatus) *pb.ModeStatusResponse {
	return &pb.ModeStatusResponse{Role: roleToProto(s.Role), PostmasterPid: int32(s.PostmasterPID), Ready: s.Ready, Message: s.Message}
}

func modeStatusFromProto(r *pb.ModeStatusResponse) ModeStatus {
	return ModeStatus{Role: roleFromProto(r.GetRole()), PostmasterPID: int(r.GetPostmasterPid()), Ready: r.GetReady(), Message: r.GetMessage()}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func jobResultsToProto(in map[string]JobResult) map[string]*pb.JobResult {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]*pb.JobResult, len(in))
	for k, r := range in {
		out[k] = &pb.JobResult{Name: r.Name, StartedUnix: unixOrZero(r.Started), FinishedUnix: unixOrZero(r.Finished),
			ExitCode: int32(r.ExitCode), Error: r.Error, Running: r.Running}
	}
	return out
}

func jobResultsFromProto(in map[string]*pb.JobResult) map[string]JobResult {
	out := make(map[string]JobResult, len(in))
	for k, r := range in {
		out[k] = JobResult{Name: r.GetName(), Started: timeOrZero(r.GetStartedUnix()), Finished: timeOrZero(r.GetFinishedUnix()),
			ExitCode: int(r.GetExitCode()), Error: r.GetError(), Running: r.GetRunning()}
	}
	return out
}

func bootstrapCommandToProto(c *BootstrapCommand) *pb.BootstrapProvideResponse {
	if c == nil {
		return &pb.BootstrapProvideResponse{}
	}
	return &pb.BootstrapProvideResponse{Argv: c.Argv, Env: c.Env, Marker: c.Marker}
}

func bootstrapCommandFromProto(r *pb.BootstrapProvideResponse) *BootstrapCommand {
	if len(r.GetArgv()) == 0 {
		return nil
	}
	return &BootstrapCommand{Argv: r.GetArgv(), Env: r.GetEnv(), Marker: r.GetMarker()}
}
