package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestKnobsFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		plugin   string
		env      map[string]string
		want     knobs
		wantVars []string
	}{
		{name: "none", plugin: "faulty", env: map[string]string{}},
		{name: "all", plugin: "faulty", env: map[string]string{
			"FAULTY_CRASH_AFTER": "2s", "FAULTY_HANG_AT_START": "1m", "FAULTY_IGNORE_TERM": "on",
			"FAULTY_STDOUT_GARBAGE": "YES", "FAULTY_MODE": "demo", "FAULTY_SPAWN_CHILD": "1"},
			want: knobs{CrashAfter: 2 * time.Second, HangAtStart: time.Minute, IgnoreTerm: true, StdoutGarbage: true, Mode: "demo", SpawnChild: true}},
		{name: "namespace follows the name", plugin: "x-y", env: map[string]string{"X_Y_CRASH_AFTER": "1s", "FAULTY_CRASH_AFTER": "9s"},
			want: knobs{CrashAfter: time.Second}},
		{name: "bad values, all reported", plugin: "faulty", env: map[string]string{
			"FAULTY_CRASH_AFTER": "x", "FAULTY_HANG_AT_START": "-5s", "FAULTY_STDOUT_GARBAGE": "2", "FAULTY_SPAWN_CHILD": "t"},
			wantVars: []string{"FAULTY_CRASH_AFTER", "FAULTY_HANG_AT_START", "FAULTY_STDOUT_GARBAGE", "FAULTY_SPAWN_CHILD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, errs := knobsFromEnv(tt.plugin, func(s string) string { return tt.env[s] })
			var vars []string
			for _, e := range errs {
				vars = append(vars, e.Var)
				assert.Contains(t, e.Error(), e.Var+"=")
			}
			assert.Equal(t, tt.wantVars, vars)
			if len(tt.wantVars) == 0 {
				assert.Equal(t, tt.want, k)
			}
		})
	}
}

func TestNameFromArgv0(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/lib/pgdock/plugins/pgdock-plugin-patroni": "patroni",
		"pgdock-plugin-pg-stat-monitor":                 "pg-stat-monitor",
		"/proc/self/fd/3":                               DefaultName,
		"pgdock-plugin-":                                DefaultName,
		"faulty":                                        DefaultName,
	} {
		assert.Equal(t, want, nameFromArgv0(argv0), argv0)
	}
}
