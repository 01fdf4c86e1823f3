package initscripts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/pgdock/pgdock/entrypoint/internal/reaper"
	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

func TestListOrderAndSkips(t *testing.T) {
	d := t.TempDir()
	for _, n := range []string{"10-b.sql", "2-a.sh", "01-z.sql.gz", ".hidden.sql", "README"} {
		require.NoError(t, os.WriteFile(filepath.Join(d, n), nil, 0o644))
	}
	got, err := List(d)
	require.NoError(t, err)
	assert.Equal(t, []string{"01-z.sql.gz", "10-b.sql", "2-a.sh", "README"}, got, "sorted names, dot files skipped")

	none, err := List(filepath.Join(d, "missing"))
	require.NoError(t, err)
	assert.Empty(t, none, "a missing directory has no scripts")

	if os.Getuid() != 0 { // root reads anything
		locked := filepath.Join(d, "locked")
		require.NoError(t, os.Mkdir(locked, 0o000))
		_, err = List(locked)
		assert.ErrorContains(t, err, "read init script directory")
	}
}

func TestHelperLibHasTheOfficialFunctions(t *testing.T) {
	lib := string(HelperLib())
	for _, fn := range []string{"file_env()", "docker_process_sql()", "psql=( docker_process_sql )", "docker_temp_server_start()"} {
		assert.True(t, strings.Contains(lib, fn), fn)
	}
}

func TestScriptErrorNamesTheFile(t *testing.T) {
	err := &ScriptError{File: "/docker-entrypoint-initdb.d/02.sql", Err: os.ErrPermission}
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.Contains(t, err.Error(), "02.sql")
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// runner returns a Runner over a fresh directory whose "psql" is a stand-in
// script (fake), with a reaper of its own.
func runner(t *testing.T, fake string) (*Runner, *syncBuf) {
	t.Helper()
	dir, bin := t.TempDir(), fakePsql(t, fake)
	require.NoError(t, reaper.BecomeSubreaper())
	r, stop := reaper.Background(nil)
	t.Cleanup(stop)
	out := &syncBuf{}
	return &Runner{Dir: dir, Psql: bin, User: "u", DB: "d", Env: os.Environ(), LibDir: t.TempDir(), Log: zap.NewNop(),
		Stdout: out, Stderr: out, Reaper: r}, out
}

// fakePsql writes a stand-in psql running script.
func fakePsql(t *testing.T, script string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "psql")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	return bin
}

func compressWith(t *testing.T, tool, s string) []byte {
	t.Helper()
	path := testpg.NeedTool(t, tool, tool+"-utils")
	if tool == "zstd" {
		path = testpg.NeedTool(t, tool, "zstd")
	}
	cmd := exec.Command(path, "-c")
	cmd.Stdin = strings.NewReader(s)
	b, err := cmd.Output()
	require.NoError(t, err)
	return b
}

// The decompressor finishes long before psql (real dumps end with long
// index builds); its status must still reach the runner. The grace-period
// reaper lost it: "zstd: waitid: no child processes".
func TestCompressedScriptsWithASlowReader(t *testing.T) {
	got := filepath.Join(t.TempDir(), "got")
	// A psql that reads everything, then keeps working for a while.
	r, out := runner(t, `cat >> "`+got+`"; sleep 1.5`)
	for _, tc := range []struct{ name, tool string }{{"01.sql.zst", "zstd"}, {"02.sql.xz", "xz"}} {
		require.NoError(t, os.WriteFile(filepath.Join(r.Dir, tc.name), compressWith(t, tc.tool, "select '"+tc.tool+"';\n"), 0o644))
	}
	require.NoError(t, r.Run(context.Background()), out.String())
	b, err := os.ReadFile(got)
	require.NoError(t, err)
	assert.Equal(t, "select 'zstd';\nselect 'xz';\n", string(b))

	// A corrupt file is the decompressor's failure, named.
	// (The same runner: one process must never run two reapers.)
	r.Dir, r.Psql = t.TempDir(), fakePsql(t, "cat > /dev/null")
	require.NoError(t, os.WriteFile(filepath.Join(r.Dir, "03.sql.zst"), []byte("not zstd"), 0o644))
	err = r.Run(context.Background())
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.File, "03.sql.zst")
	assert.Contains(t, err.Error(), "zstd")
}

// A script that ignores SIGTERM is killed with its whole process group once
// the stop budget is spent; nothing of it survives.
func TestStopKillsAScriptThatIgnoresSIGTERM(t *testing.T) {
	r, out := runner(t, "exit 0")
	r.StopBudget = 500 * time.Millisecond
	require.NoError(t, os.WriteFile(filepath.Join(r.Dir, "01.sh"), []byte("#!/bin/sh\ntrap '' TERM\nsleep 1000 &\necho \"pgid $$ bg $!\"\nsleep 1000\n"), 0o755))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "bg ") }, 10*time.Second, 5*time.Millisecond)
	var pgid, bg int
	_, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "pgid"):], "pgid %d bg %d", &pgid, &bg)
	require.NoError(t, err)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "interrupted")
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not return after its stop budget")
	}
	took := time.Since(start)
	assert.GreaterOrEqual(t, took, r.StopBudget, "SIGTERM was ignored, so only SIGKILL ended it")
	assert.Less(t, took, r.StopBudget+2*time.Second)
	assertGroupGone(t, pgid)
}

// A background job a successful script leaves behind is killed with the group.
func TestBackgroundJobOfAScriptDoesNotOutliveIt(t *testing.T) {
	r, out := runner(t, "exit 0")
	require.NoError(t, os.WriteFile(filepath.Join(r.Dir, "01.sh"), []byte("#!/bin/sh\nsleep 1000 &\necho \"pgid $$\"\n"), 0o755))
	require.NoError(t, r.Run(context.Background()))
	var pgid int
	_, err := fmt.Sscanf(out.String()[strings.Index(out.String(), "pgid"):], "pgid %d", &pgid)
	require.NoError(t, err)
	assertGroupGone(t, pgid)
}

// assertGroupGone waits until the killed group's last zombies are reaped
// (by this test process, a subreaper, like the entrypoint).
func assertGroupGone(t *testing.T, pgid int) {
	t.Helper()
	assert.Eventually(t, func() bool { return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) }, 5*time.Second, 5*time.Millisecond,
		"no process of the script's group is left")
}
