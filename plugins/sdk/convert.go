package sdk

import (
	"os"

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
	out := &pb.ConfigureResponse{Settings: settingsToProto(c.Settings), HbaRules: c.HBARules}
	for _, f := range c.Files {
		out.Files = append(out.Files, &pb.File{Path: f.Path, Content: f.Content, Mode: uint32(f.Mode.Perm())})
	}
	return out
}

func configurationFromProto(r *pb.ConfigureResponse) Configuration {
	c := Configuration{Settings: settingsFromProto(r.GetSettings()), HBARules: r.GetHbaRules()}
	for _, f := range r.GetFiles() {
		c.Files = append(c.Files, File{Path: f.GetPath(), Content: f.GetContent(), Mode: os.FileMode(f.GetMode()).Perm()})
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
	return &pb.HealthResponse{Healthy: h.Healthy, Message: h.Message, Details: h.Details}
}

func healthFromProto(r *pb.HealthResponse) Health {
	return Health{Healthy: r.GetHealthy(), Message: r.GetMessage(), Details: r.GetDetails()}
}

func commandToProto(c *Command) *pb.ModeCommandResponse {
	if c == nil {
		return &pb.ModeCommandResponse{}
	}
	return &pb.ModeCommandResponse{Argv: c.Argv, Env: c.Env, Dir: c.Dir, StopSignal: c.StopSignal}
}

func commandFromProto(r *pb.ModeCommandResponse) *Command {
	if len(r.GetArgv()) == 0 {
		return nil
	}
	return &Command{Argv: r.GetArgv(), Env: r.GetEnv(), Dir: r.GetDir(), StopSignal: r.GetStopSignal()}
}
