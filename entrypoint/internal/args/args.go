package args

import "path/filepath"

// Kind is what the entrypoint should do with its arguments.
type Kind int

const (
	// Server: run the full lifecycle; Invocation.ServerArgs go to postgres.
	Server Kind = iota
	// PostgresDirect: postgres asked for help or version; exec it directly, no setup.
	PostgresDirect
	// Exec: any other command; exec it unchanged, no setup, no output.
	Exec
)

// Invocation is the classified command line.
type Invocation struct {
	Kind       Kind
	Argv       []string // the full command (PostgresDirect, Exec)
	ServerArgs []string // extra postgres arguments (Server), e.g. -c shared_buffers=256MB
}

// helpFlags are the arguments that make the official entrypoint skip setup
// (_pg_want_help); -C is deliberately not among them.
var helpFlags = map[string]bool{"-?": true, "--help": true, "--describe-config": true, "-V": true, "--version": true}

// Classify applies the official semantics. No arguments means `postgres`
// (the image's CMD).
func Classify(argv []string) Invocation {
	if len(argv) == 0 {
		return Invocation{Kind: Server, Argv: []string{"postgres"}}
	}
	if len(argv[0]) > 0 && argv[0][0] == '-' {
		argv = append([]string{"postgres"}, argv...)
	}
	if filepath.Base(argv[0]) != "postgres" {
		return Invocation{Kind: Exec, Argv: argv}
	}
	for _, a := range argv[1:] {
		if helpFlags[a] {
			return Invocation{Kind: PostgresDirect, Argv: argv}
		}
	}
	return Invocation{Kind: Server, Argv: argv, ServerArgs: append([]string(nil), argv[1:]...)}
}
