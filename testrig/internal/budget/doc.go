// Package budget holds the time budgets the rig checks and the accounting of
// measured durations against them: a measurement over its limit is a failure,
// a budget with no measurement is reported as not measured, never as met.
package budget
