// Package scenario holds the rig's scenarios and the small framework they are
// written in: a T that records checks, skips, measurements and the timeline,
// and brings stacks up from the compose files users run, tearing them down
// afterwards. Every scenario is listed in Registry (registry.go); a later
// issue adds its scenario there and nowhere else.
package scenario
