// Package bundle is the table of the plugins built into pgdock-plugins, the
// one multi-call binary the container images ship. Each plugin is installed
// as a hard link named pgdock-plugin-<name> to that binary, and the binary
// serves the plugin named by its invocation name (basename of argv[0]). One
// binary instead of one per plugin keeps the gRPC and go-plugin code, which
// is most of a plugin's size, in the image once.
package bundle
