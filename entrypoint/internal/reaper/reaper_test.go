package reaper

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in    string
		state string
		ppid  int
		ok    bool
	}{
		{"123 (postgres) S 1 123 123 0", "S", 1, true},
		{"77 (weird ) name)) Z 42 77 0", "Z", 42, true},
		{"garbage", "", 0, false},
		{"1 (x) Z notanumber", "", 0, false},
	} {
		st, pp, ok := parseStat(tc.in)
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.state, st, tc.in)
		assert.Equal(t, tc.ppid, pp, tc.in)
	}
}

// TestReapsOrphans makes this test process a subreaper, lets a shell leave a
// grandchild behind, and checks the grandchild is reaped once it exits while
// the shell's own exit status still reaches exec.Cmd.Wait.
func TestReapsOrphans(t *testing.T) {
	require.NoError(t, BecomeSubreaper())
	r := New(nil, 50*time.Millisecond)
	r.Reaped = make(chan int, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	cmd := exec.Command("sh", "-c", "sleep 0.2 & echo $!; exit 7")
	out, err := cmd.Output()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "our own child's status must not be stolen")
	assert.Equal(t, 7, ee.ExitCode())
	orphan, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)

	select {
	case pid := <-r.Reaped:
		assert.Equal(t, orphan, pid)
	case <-time.After(5 * time.Second):
		t.Fatal("orphan was not reaped")
	}
	assert.NotContains(t, r.zombieChildren(), orphan)
}
