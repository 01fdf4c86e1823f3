// Package runner runs scenarios one after another on one Engine: it sweeps
// what earlier runs left, gives each scenario a T, turns panics into failures,
// tears every stack down (also after Ctrl-C) and checks nothing of the run is
// left on the Engine.
package runner
