package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestBackupConfigValidate(t *testing.T) {
	ok := BackupConfig{Scale: 10, Runs: 2, ProcessMax: 2, Compress: "lz4"}
	tests := []struct {
		name    string
		mutate  func(*BackupConfig)
		wantErr string
	}{
		{"defaults", func(*BackupConfig) {}, ""},
		{"zst", func(c *BackupConfig) { c.Compress = "zst" }, ""},
		{"scale 0", func(c *BackupConfig) { c.Scale = 0 }, "backup scale 0"},
		{"process-max 0", func(c *BackupConfig) { c.ProcessMax = 0 }, "process-max 0"},
		{"unknown compression", func(c *BackupConfig) { c.Compress = "xz" }, `compress type "xz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigRuns(t *testing.T) {
	tests := []struct {
		suites []string
		suite  string
		want   bool
	}{
		{nil, SuiteDirect, true},
		{nil, SuiteBackup, true},
		{[]string{SuitePatroni}, SuitePatroni, true},
		{[]string{SuitePatroni}, SuiteDirect, false},
		{[]string{SuiteDirect, SuiteBackup}, SuiteBackup, true},
	}
	for _, tt := range tests {
		if got := (Config{Suites: tt.suites}).runs(tt.suite); got != tt.want {
			t.Errorf("suites %v runs(%s) = %t, want %t", tt.suites, tt.suite, got, tt.want)
		}
	}
}

func TestRunRejectsUnknownSuite(t *testing.T) {
	cfg := Config{Runs: 1, HealthRuns: 1, PatroniRuns: 1, Suites: []string{"citus"},
		Backup: BackupConfig{Scale: 1, Runs: 1, ProcessMax: 1, Compress: "lz4"}}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `unknown suite "citus"`) {
		t.Fatalf("Run: %v, want an unknown-suite error", err)
	}
}

func TestWriterFirstAckAfter(t *testing.T) {
	base := time.Now()
	w := &writer{done: make(chan struct{}), changed: make(chan struct{}),
		acked:   []int{1, 2, 3, 4, 5},
		ackedAt: []time.Time{base.Add(-2 * time.Second), base.Add(-time.Second), base.Add(500 * time.Millisecond), base.Add(1500 * time.Millisecond), base.Add(3 * time.Second)},
		ackedBy: []int{5432, 5432, 5432, 5433, 5433}}
	got, err := w.firstAckAfter(context.Background(), base, 5432, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got != 1500*time.Millisecond {
		t.Fatalf("first ack by another server after the signal: %s, want 1.5s (the old leader's ack at 0.5s does not count)", got)
	}
	if _, err := w.firstAckAfter(context.Background(), base.Add(4*time.Second), 5432, 50*time.Millisecond); err == nil {
		t.Fatal("no acknowledgement after the last one: want a timeout")
	}
}
