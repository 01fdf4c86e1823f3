package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseHandshake(t *testing.T) {
	tests := []struct {
		line, network, addr, err string
	}{
		{line: "1|1|unix|/tmp/plugin123|grpc|", network: "unix", addr: "/tmp/plugin123"},
		{line: "1|1|tcp|127.0.0.1:1234|grpc", network: "tcp", addr: "127.0.0.1:1234"},
		{line: "1|1|unix|/tmp/p|netrpc", err: `protocol "netrpc", want grpc`},
		{line: "1|1|pipe|x|grpc", err: "network pipe"},
		{line: "This binary is a plugin.", err: "unexpected line"},
	}
	for _, tc := range tests {
		network, addr, err := parseHandshake(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || network != tc.network || addr != tc.addr {
			t.Errorf("%q: got %q %q %v", tc.line, network, addr, err)
		}
	}
}

// waitPostmasterReady accepts only a postmaster.pid that names the started
// process and says ready, and gives up when the process exits.
func TestWaitPostmasterReady(t *testing.T) {
	dir := t.TempDir()
	p, _, err := startProc("sleep", procSpec{Path: "/bin/sleep", Args: []string{"30"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p.kill()
	write := func(pid int, status string) {
		content := []byte(strconv.Itoa(pid) + "\n" + dir + "\n1\n5432\n/tmp\n\n0 0\n" + status + "\n")
		if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 100*time.Millisecond)
	}

	write(p.pid()+1, "ready   ") // another postmaster's file
	ctx, cancel := short()
	if err := waitPostmasterReady(ctx, p, dir); err == nil {
		t.Error("ready with another pid's file")
	}
	cancel()
	write(p.pid(), "starting")
	ctx, cancel = short()
	if err := waitPostmasterReady(ctx, p, dir); err == nil {
		t.Error("ready while starting")
	}
	cancel()
	write(p.pid(), "ready   ")
	ctx, cancel = short()
	if err := waitPostmasterReady(ctx, p, dir); err != nil {
		t.Errorf("not ready: %v", err)
	}
	cancel()
	p.kill()
	write(p.pid(), "starting")
	if err := waitPostmasterReady(context.Background(), p, dir); err == nil || !strings.Contains(err.Error(), "postgres exited") {
		t.Errorf("after exit: %v", err)
	}
}
