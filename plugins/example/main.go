package example

import (
	"os"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Main serves the example plugin to the pgdock-entrypoint that started this
// process, without any test knob (those live in a test-only plugin). The
// multi-call binary of the images (plugins/bundle) calls it when invoked as
// pgdock-plugin-example.
func Main() {
	// The logger must exist before sdk.Serve redirects os.Stderr, and nothing
	// may be written to stdout before sdk.Serve: it carries the handshake.
	log := sdk.NewLogger(Name)
	sdk.Serve(New(log, os.Getenv))
}
