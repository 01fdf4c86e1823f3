package scenario

// Registry lists every scenario, in the order `testrig run` runs them. To add
// one, write a constructor returning a Scenario (see direct.go for the
// pattern) and append it here; the CLI, the report and the JUnit output pick
// it up from this list.
func Registry() []Scenario {
	return []Scenario{
		Direct(),
		User(),
		Sleep(),
		Monitoring(),
	}
}
