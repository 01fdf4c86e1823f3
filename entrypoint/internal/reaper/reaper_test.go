package reaper

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func start(t *testing.T, r *Reaper, name string, args ...string) *Child {
	t.Helper()
	c, err := r.Start(exec.Command(name, args...))
	require.NoError(t, err)
	return c
}

// Every child's own status reaches its starter, whatever it is and however
// fast it exits.
func TestStatusesReachTheirStarter(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	for _, tc := range []struct {
		name   string
		script string
		code   int
		desc   string
	}{
		{"success", "exit 0", 0, "exit status 0"},
		{"instant failure", "exit 7", 7, "exit status 7"},
		{"killed", "kill -KILL $$", 128 + 9, "killed by signal killed"},
		{"terminated", "kill -TERM $$", 128 + 15, "killed by signal terminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := start(t, r, "/bin/sh", "-c", tc.script)
			err := c.Wait()
			assert.Equal(t, tc.code, Code(c.Status()))
			assert.Equal(t, tc.desc, Describe(c.Status()))
			if tc.code == 0 {
				assert.NoError(t, err)
			} else {
				var ee *ExitError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, tc.desc, ee.Error())
			}
		})
	}
}

// A child that exits before Start has even returned (a missing file for
// /bin/true's sibling: exec succeeds, exit is immediate) is not lost: the
// loop cannot reap it before it is registered.
func TestInstantExitIsNotLost(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	for i := 0; i < 200; i++ {
		c := start(t, r, "/bin/false")
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("child %d never reported", i)
		}
		require.Equal(t, 1, Code(c.Status()), "run %d", i)
	}
}

// Many children started concurrently, each with its own code, each gets its
// own status (the old grace-period reaper lost statuses this way).
func TestManyConcurrentChildren(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	const n = 64
	var wg sync.WaitGroup
	got := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := r.Start(exec.Command("/bin/sh", "-c", "exit "+strconv.Itoa(i%50)))
			if err != nil {
				got[i] = -1
				return
			}
			_ = c.Wait()
			got[i] = Code(c.Status())
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		assert.Equal(t, i%50, got[i], "child %d", i)
	}
}

// The case of the issue: a decompressor that finishes while psql (here a
// slower reader) still runs keeps its status, whatever the delay.
func TestPipelineKeepsBothStatuses(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	producer := exec.Command("/bin/sh", "-c", "echo data; exit 0")
	producer.Stdout = pw
	p, err := r.Start(producer)
	require.NoError(t, err)
	pw.Close()
	var out bytes.Buffer
	consumer := exec.Command("/bin/sh", "-c", "read x; echo got $x; read y; exit 3") // waits for EOF after the producer is gone
	consumer.Stdin, consumer.Stdout = pr, &out
	c, err := r.Start(consumer)
	require.NoError(t, err)
	pr.Close()
	<-p.Done()
	require.NoError(t, p.Wait(), "the producer's status is its own")
	var ee *ExitError
	require.ErrorAs(t, c.Wait(), &ee)
	assert.Equal(t, 3, Code(ee.Status))
	assert.Equal(t, "got data\n", out.String(), "output copied before Wait returns")
}

func TestStdinAndCombinedOutput(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	var out bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", "cat; echo err >&2")
	cmd.Stdin = strings.NewReader("in\n")
	cmd.Stdout, cmd.Stderr = &out, &out
	c, err := r.Start(cmd)
	require.NoError(t, err)
	require.NoError(t, c.Wait())
	assert.Equal(t, "in\nerr\n", out.String())

	_, err = r.Start(exec.Command("/nonexistent/binary"))
	assert.Error(t, err)
}

// Orphans re-parented to this (subreaper) process are reaped and reported;
// the shell's own status still reaches its starter.
func TestReapsOrphans(t *testing.T) {
	require.NoError(t, BecomeSubreaper())
	r := New(nil)
	orphans := make(chan int, 4)
	r.OnOrphan = func(pid int, _ syscall.WaitStatus) { orphans <- pid }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var out bytes.Buffer
	cmd := exec.Command("/bin/sh", "-c", "sleep 0.2 & echo $!; exit 7")
	cmd.Stdout = &out
	c, err := r.Start(cmd)
	require.NoError(t, err)
	err = c.Wait()
	var ee *ExitError
	require.ErrorAs(t, err, &ee, "our own child's status must not be stolen")
	assert.Equal(t, 7, Code(ee.Status))
	orphan, err := strconv.Atoi(strings.TrimSpace(out.String()))
	require.NoError(t, err)

	select {
	case pid := <-orphans:
		assert.Equal(t, orphan, pid)
	case <-time.After(10 * time.Second):
		t.Fatal("orphan was not reaped")
	}
}

func TestSignalAfterExitIsHarmless(t *testing.T) {
	r, stop := Background(nil)
	defer stop()
	c := start(t, r, "/bin/true")
	require.NoError(t, c.Wait())
	assert.NoError(t, c.Signal(syscall.SIGTERM))
	c.KillGroup(syscall.SIGKILL) // no group: ESRCH is ignored
}
