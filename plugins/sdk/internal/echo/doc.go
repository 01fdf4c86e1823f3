// Package echo holds the SDK's own test double: Echo, a plugin whose
// answers are derived from its requests so that a round trip through the
// protocol can be checked field by field. internal/testplugin serves it as
// a real plugin binary (with a configurable protocol version).
package echo
