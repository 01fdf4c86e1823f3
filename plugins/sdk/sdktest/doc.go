// Package sdktest is the test harness for plugin authors (and for pgdock's
// own tests):
//
//   - Serve runs a plugin implementation in-process behind the real gRPC
//     adapters and returns the typed client a host uses, so every hook can be
//     tested through the wire format without building a binary.
//   - Build and Launch build a plugin command and start it the way
//     pgdock-entrypoint does (go-plugin handshake, protocol negotiation), to
//     test what only a real process shows: nothing on stdout before
//     sdk.Serve, the binary's name, the process environment.
//   - Missing, NeedTool and NeedRoot report a missing prerequisite (a program, root,
//     PostgreSQL): the test is skipped, or fails when PGDOCK_TEST_REQUIRE is
//     true, as `make test` sets it, so that a test cannot silently vanish
//     from a run that is meant to be complete.
package sdktest
