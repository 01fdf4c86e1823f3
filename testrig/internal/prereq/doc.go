// Package prereq handles tests' missing prerequisites (a Docker Engine, an
// image) by the project's rule: under PGDOCK_TEST_REQUIRE=1 (make test) a
// missing prerequisite fails the test; under plain go test it skips, saying
// why.
package prereq
