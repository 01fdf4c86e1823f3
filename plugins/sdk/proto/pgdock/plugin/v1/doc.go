// Package pluginv1 is the generated Go code for the pgdock plugin protocol,
// version 1 (plugin.proto beside it). Regenerate it with `make generate`
// (plugins/sdk/generate.sh, which pins the generator versions); never edit the
// *.pb.go files by hand. Plugin authors and the host use the typed wrappers in
// package sdk rather than these messages.
package pluginv1
