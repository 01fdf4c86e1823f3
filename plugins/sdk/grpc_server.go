package sdk

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/pgdock/pgdock/plugins/sdk/proto/pgdock/plugin/v1"
)

// grpcServer adapts a Plugin to the generated gRPC service. A hook's error
// becomes a status error whose message is the error text; the host shows it
// to the user.
type grpcServer struct {
	pb.UnimplementedPluginServer
	impl Plugin

	// jobs are the job results the host sent last: the host pushes them
	// after every job run; a probe that sends none (pgdock-healthcheck
	// reattaching) gets these.
	mu   sync.Mutex
	jobs map[string]*pb.JobResult
}

func hookError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(codes.Unknown, err.Error())
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, hookError(err)
	}
	return descriptionToProto(d), nil
}

func (s *grpcServer) Validate(ctx context.Context, req *pb.ValidateRequest) (*pb.ValidateResponse, error) {
	problems, err := s.impl.Validate(ctx, nonNilEnv(req.GetEnv()))
	if err != nil {
		return nil, hookError(err)
	}
	return &pb.ValidateResponse{Problems: problemsToProto(problems)}, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	c, err := s.impl.Configure(ctx, ConfigureRequest{Env: nonNilEnv(req.GetEnv()), Server: serverFromProto(req.GetServer())})
	if err != nil {
		return nil, hookError(err)
	}
	return configurationToProto(c), nil
}

func (s *grpcServer) Bootstrap(ctx context.Context, req *pb.BootstrapRequest) (*pb.BootstrapResponse, error) {
	err := s.impl.Bootstrap(ctx, HookRequest{Env: nonNilEnv(req.GetEnv()), Conn: connFromProto(req.GetConn())})
	if err != nil {
		return nil, hookError(err)
	}
	return &pb.BootstrapResponse{}, nil
}

func (s *grpcServer) Started(ctx context.Context, req *pb.StartedRequest) (*pb.StartedResponse, error) {
	err := s.impl.Started(ctx, HookRequest{Env: nonNilEnv(req.GetEnv()), Conn: connFromProto(req.GetConn()), Role: roleFromProto(req.GetRole())})
	if err != nil {
		return nil, hookError(err)
	}
	return &pb.StartedResponse{}, nil
}

func (s *grpcServer) Health(ctx context.Context, req *pb.HealthRequest) (*pb.HealthResponse, error) {
	var h Health
	var err error
	if jr, ok := s.impl.(JobHealthReporter); ok {
		jobs := req.GetJobs()
		s.mu.Lock()
		if len(jobs) > 0 {
			s.jobs = jobs
		} else {
			jobs = s.jobs
		}
		s.mu.Unlock()
		h, err = jr.HealthWithJobs(ctx, HealthRequest{Jobs: jobResultsFromProto(jobs)})
	} else {
		h, err = s.impl.Health(ctx)
	}
	if err != nil {
		return nil, hookError(err)
	}
	return healthToProto(h), nil
}

func (s *grpcServer) Stopping(ctx context.Context, _ *pb.StoppingRequest) (*pb.StoppingResponse, error) {
	if err := s.impl.Stopping(ctx); err != nil {
		return nil, hookError(err)
	}
	return &pb.StoppingResponse{}, nil
}

func (s *grpcServer) ModeCommand(ctx context.Context, req *pb.ModeCommandRequest) (*pb.ModeCommandResponse, error) {
	c, err := s.impl.ModeCommand(ctx, ModeCommandRequest{Env: nonNilEnv(req.GetEnv()), Server: serverFromProto(req.GetServer()),
		Merged: mergedFromProto(req.GetMerged())})
	if err != nil {
		return nil, hookError(err)
	}
	return commandToProto(c), nil
}

func (s *grpcServer) ModeStatus(ctx context.Context, _ *pb.ModeStatusRequest) (*pb.ModeStatusResponse, error) {
	r, ok := s.impl.(ModeStatusReporter)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the plugin reports no mode status")
	}
	st, err := r.ModeStatus(ctx)
	if err != nil {
		return nil, hookError(err)
	}
	return modeStatusToProto(st), nil
}

func (s *grpcServer) RoleChanged(ctx context.Context, req *pb.RoleChangedRequest) (*pb.RoleChangedResponse, error) {
	if o, ok := s.impl.(RoleObserver); ok {
		err := o.RoleChanged(ctx, RoleChange{Role: roleFromProto(req.GetRole()), Previous: roleFromProto(req.GetPrevious()),
			Env: nonNilEnv(req.GetEnv()), Conn: connFromProto(req.GetConn())})
		if err != nil {
			return nil, hookError(err)
		}
	}
	return &pb.RoleChangedResponse{}, nil
}

func (s *grpcServer) BootstrapProvide(ctx context.Context, req *pb.BootstrapProvideRequest) (*pb.BootstrapProvideResponse, error) {
	p, ok := s.impl.(BootstrapProvider)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "the plugin provides no bootstrap")
	}
	c, err := p.BootstrapProvide(ctx, BootstrapProvideRequest{Env: nonNilEnv(req.GetEnv()), Server: serverFromProto(req.GetServer())})
	if err != nil {
		return nil, hookError(err)
	}
	return bootstrapCommandToProto(c), nil
}

func nonNilEnv(env map[string]string) map[string]string {
	if env == nil {
		return map[string]string{}
	}
	return env
}
