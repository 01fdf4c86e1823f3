package main

import "testing"

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"list", []string{"list"}, 0},
		{"version", []string{"version"}, 0},
		{"no arguments", nil, 2},
		{"unknown", []string{"serve"}, 2},
		{"extra argument", []string{"list", "x"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := run(tt.args); got != tt.want {
				t.Errorf("run(%q) = %d, want %d", tt.args, got, tt.want)
			}
		})
	}
}
