package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10"
	tests := []struct {
		name string
		line string
		want Info
		err  string
	}{
		{name: "plain", line: "42 (postgres) S" + tail, want: Info{PID: 42, Comm: "postgres", State: 'S', PPID: 1, StartTicks: 4242}},
		{name: "comm with spaces and parens", line: "42 (a) (b c) Z" + tail, want: Info{PID: 42, Comm: "a) (b c", State: 'Z', PPID: 1, StartTicks: 4242}},
		{name: "no parens", line: "42 postgres S" + tail, err: "malformed stat line"},
		{name: "too few fields", line: "42 (postgres) S 1 1", err: "malformed stat line"},
		{name: "bad state", line: "42 (postgres) SS" + tail, err: "malformed stat line"},
		{name: "bad start time", line: "42 (postgres) S 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 x 1000", err: "malformed start time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStat(42, []byte(tc.line))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestStatSelf(t *testing.T) {
	info, err := Stat(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), info.PID)
	assert.NotEmpty(t, info.Comm)
	assert.False(t, info.Zombie())

	_, err = Stat(0)
	assert.ErrorContains(t, err, "invalid pid")
}

// exitedChild returns the pid of a child that has exited; reap decides
// whether it was waited for (gone) or is left a zombie.
func exitedChild(t *testing.T, reap bool) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	if reap {
		require.NoError(t, cmd.Wait())
		return pid
	}
	t.Cleanup(func() { _ = cmd.Wait() })
	require.Eventually(t, func() bool {
		info, err := Stat(pid)
		return err == nil && info.Zombie()
	}, 5*time.Second, 5*time.Millisecond, "child never became a zombie")
	return pid
}

func TestAlive(t *testing.T) {
	assert.True(t, Alive(os.Getpid()), "self")
	assert.True(t, Alive(1), "pid 1")
	assert.False(t, Alive(0))
	assert.False(t, Alive(-5))
	assert.False(t, Alive(exitedChild(t, true)), "exited and reaped")
	assert.False(t, Alive(exitedChild(t, false)), "zombie counts as dead")
}

func TestStartTime(t *testing.T) {
	started, err := StartTime(os.Getpid())
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), started, time.Hour)
	assert.False(t, started.After(time.Now().Add(2*time.Second)), "starts before now (1 s resolution)")

	_, err = StartTime(exitedChild(t, true))
	assert.Error(t, err)
}

// sleeper starts /bin/sleep as name (a symlink, so comm is name) or with
// argv[0] set to argv0 (comm stays "sleep").
func sleeper(t *testing.T, name, argv0 string) int {
	t.Helper()
	bin, err := exec.LookPath("sleep")
	require.NoError(t, err)
	if name != "" {
		link := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.Symlink(bin, link))
		bin = link
	}
	cmd := exec.Command(bin, "30")
	if argv0 != "" {
		cmd.Args[0] = argv0
	}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

func TestIsPostgres(t *testing.T) {
	tests := []struct {
		name     string
		pid      int
		want     bool
		wantComm string
		err      string
	}{
		{name: "comm postgres", pid: sleeper(t, "postgres", ""), want: true, wantComm: "postgres"},
		{name: "comm postmaster", pid: sleeper(t, "postmaster", ""), want: true, wantComm: "postmaster"},
		{name: "argv0 path ends in postgres", pid: sleeper(t, "", "/usr/lib/postgresql/15/bin/postgres"), want: true, wantComm: "sleep"},
		{name: "command line merely mentions postgres", pid: sleeper(t, "", "sleep-postgres"), want: false, wantComm: "sleep"},
		{name: "zombie", pid: exitedChild(t, false), want: false, wantComm: "true", err: "zombie"},
		{name: "gone", pid: exitedChild(t, true), want: false, err: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, comm, err := IsPostgres(tc.pid)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantComm, comm)
		})
	}
}

func TestReadPostmasterPID(t *testing.T) {
	tests := []struct {
		name    string
		content *string
		want    int
		err     string
	}{
		{name: "real layout", content: ptr("4242\n/var/lib/postgresql/data\n1700000000\n5432\n/run/postgresql\n*\n  1234 5678\nready   \n"), want: 4242},
		{name: "spaces", content: ptr(" 17 \n"), want: 17},
		{name: "garbage", content: ptr("x\n"), err: "is not a pid"},
		{name: "negative", content: ptr("-3\n"), err: "is not a pid"},
		{name: "empty", content: ptr(""), err: "is not a pid"},
		{name: "missing", err: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.content != nil {
				require.NoError(t, os.WriteFile(filepath.Join(dir, PostmasterPIDFile), []byte(*tc.content), 0o600))
			}
			got, err := ReadPostmasterPID(dir)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func ptr(s string) *string { return &s }

func TestBootTime(t *testing.T) {
	boot, err := bootTime()
	require.NoError(t, err)
	assert.True(t, boot.Before(time.Now()))
}

func TestParsePIDFile(t *testing.T) {
	tests := []struct {
		name string
		data string
		want PIDFile
		err  string
	}{
		{name: "ready", data: "1234\n/var/lib/postgresql/data\n1700000000\n5432\n/var/run/postgresql\n*\n  5432001         3\nready   \n",
			want: PIDFile{PID: 1234, DataDir: "/var/lib/postgresql/data", Port: 5432, Status: StatusReady}},
		{name: "standby", data: "7\n/d\n1\n5433\n/s\n\n0 0\nstandby \n", want: PIDFile{PID: 7, DataDir: "/d", Port: 5433, Status: StatusStandby}},
		{name: "still starting: no status line yet", data: "7\n/d\n1\n5433\n", want: PIDFile{PID: 7, DataDir: "/d", Port: 5433}},
		{name: "not a pid", data: "x\n", err: `first line "x" is not a pid`},
		{name: "empty", data: "", err: "is not a pid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePIDFile([]byte(tc.data))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestChildrenAndTitle(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	kids, err := Children(os.Getpid())
	require.NoError(t, err)
	assert.Contains(t, kids, cmd.Process.Pid)
	title, err := Title(cmd.Process.Pid)
	require.NoError(t, err)
	assert.Equal(t, "sleep 30", title)
	none, err := Children(cmd.Process.Pid)
	require.NoError(t, err)
	assert.Empty(t, none)
}
