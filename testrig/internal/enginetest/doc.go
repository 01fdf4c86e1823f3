// Package enginetest gives tests a Docker Engine and a one-binary image
// (the tiny program in ./tiny, built and imported by the test), so the rig's
// Engine-facing code is tested without make image or a registry. A missing
// Engine is reported through sdktest.Missing: a failure under
// PGDOCK_TEST_REQUIRE=1, a skip otherwise.
package enginetest
