package example

import (
	"os"

	"github.com/pgdock/pgdock/plugins/sdk"
)

// Main serves the example plugin to the pgdock-entrypoint that started this
// process, without any test knob. The multi-call binary of the images
// (plugins/bundle) calls it when invoked as pgdock-plugin-example.
func Main() {
	// The logger must exist before sdk.Serve redirects os.Stderr.
	log := sdk.NewLogger(Name)
	sdk.Serve(New(log, Knobs{}, os.Getenv))
}
