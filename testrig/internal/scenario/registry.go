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
		Patroni(),
		Backup(),
		PatroniBackup(),
	}
}

// Optional lists the scenarios that run only when named (`testrig run
// upgrade`): built but not yet part of the default run, or in progress.
func Optional() []Scenario {
	return []Scenario{
		Citus(),
		Upgrade(),
	}
}

// All is Registry followed by Optional: every scenario a name may select.
func All() []Scenario {
	return append(Registry(), Optional()...)
}
