// Package earlysignal subscribes to the entrypoint's lifecycle signals
// (SIGTERM, SIGINT, SIGQUIT, SIGHUP) while the program is still
// initialising its packages. As PID 1 a stop signal that arrives before
// anyone subscribed is the Go runtime's "exit 2" (the kernel ignores the
// default action for init, so the runtime's re-raise does nothing and it
// exits 2), not a clean stop. Its init has no dependencies beyond
// os/signal, so Go runs it before the heavy packages (gRPC, protobuf, zap);
// main then takes the channel (Channel) or, for a subcommand, gives the
// signals back their default behaviour (Release).
package earlysignal
