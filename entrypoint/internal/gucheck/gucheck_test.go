package gucheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/entrypoint/internal/testpg"
)

// TestCheckAgainstPostgres asks the real PostgreSQL 15 about good and bad
// settings: every problem is found in one call, named, in the server's
// words; custom dotted parameters pass; a typo gets a suggestion.
func TestCheckAgainstPostgres(t *testing.T) {
	env := testpg.Setup(t)
	c := New(env.Bin.Postgres)
	ctx := context.Background()

	ok := []Param{
		{"shared_buffers", "64MB"}, {"work_mem", "4096"}, {"max_connections", "50"},
		{"wal_level", "logical"}, {"timezone", "Europe/Berlin"}, {"cron.database_name", "app"},
		{"log_line_prefix", "%m [%p] it's \\ fine"}, {"listen_addresses", "*"}, {"search_path", `"$user", public`},
		{"lc_messages", "C"}, {"TimeZone", "UTC"[:3]},
	}
	probs, err := c.Check(ctx, ok[:len(ok)-1])
	require.NoError(t, err)
	assert.Empty(t, probs)

	for _, tc := range []struct {
		p    Param
		want string
	}{
		{Param{"shared_buffers", "64XB"}, `invalid value for parameter "shared_buffers": "64XB" Valid units for this parameter are "B", "kB", "MB", "GB", and "TB".`},
		{Param{"work_mem", "lots"}, `invalid value for parameter "work_mem"`},
		{Param{"max_connections", "0"}, `0 is outside the valid range for parameter "max_connections" (1 .. 262143)`},
		{Param{"wal_level", "maximal"}, "Available values: minimal, replica, logical."},
		{Param{"fsync", "perhaps"}, `requires a Boolean value`},
		{Param{"timezone", "Mars/Olympus"}, `invalid value for parameter "TimeZone"`},
		{Param{"block_size", "16384"}, `cannot be changed`},
		{Param{"random_page_cost", "-1"}, `outside the valid range`},
		{Param{"shared_bufers", "1"}, "unknown parameter"},
	} {
		t.Run(tc.p.Name+"="+tc.p.Value, func(t *testing.T) {
			probs, err := c.Check(ctx, []Param{{"work_mem", "8MB"}, tc.p})
			require.NoError(t, err)
			require.Len(t, probs, 1, "%v", probs)
			assert.Equal(t, tc.p.Name, probs[0].Name)
			assert.Contains(t, probs[0].Message, tc.want)
			assert.NotContains(t, probs[0].Message, "/dev/fd", "no trace of how the check works")
		})
	}

	// All at once: an unknown name does not hide a bad value elsewhere.
	start := time.Now()
	probs, err = c.Check(ctx, []Param{{"shared_bufers", "1"}, {"shared_buffers", "64XB"}, {"wal_level", "foo"}, {"cron.database_name", "x"}, {"max_wal_senderz", "3"}})
	require.NoError(t, err)
	t.Logf("check with problems took %s", time.Since(start))
	got := map[string]string{}
	for _, p := range probs {
		got[p.Name] = p.Message
	}
	assert.Len(t, got, 4, "%v", probs)
	assert.Contains(t, got["shared_bufers"], "did you mean shared_buffers?")
	assert.Contains(t, got["max_wal_senderz"], "did you mean max_wal_senders?")
	assert.Contains(t, got["shared_buffers"], "64XB")
	assert.Contains(t, got["wal_level"], "foo")

	// A valid lc_messages does not change the language of later messages.
	probs, err = c.Check(ctx, []Param{{"lc_messages", "C"}, {"work_mem", "x"}})
	require.NoError(t, err)
	require.Len(t, probs, 1)
	assert.Equal(t, "work_mem", probs[0].Name)
}

func TestCheckNothingRunsNothing(t *testing.T) {
	probs, err := New("/nonexistent/postgres").Check(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, probs)
	_, err = New("/nonexistent/postgres").Check(context.Background(), []Param{{"work_mem", "1"}})
	assert.ErrorContains(t, err, "/nonexistent/postgres")
}

func TestParse(t *testing.T) {
	out := strings.Join([]string{
		`2026-12-03 15:34:24.833 GMT [13070] LOG:  skipping missing configuration file "/x/postgresql.auto.conf"`,
		`2026-12-03 15:34:24.833 GMT [13070] LOG:  syntax error in file "/dev/fd/3" line 2, near token "x"`,
		`2026-12-03 15:34:24.833 GMT [13070] LOG:  something nobody expected`,
		`2026-12-03 15:34:24.833 GMT [13070] DETAIL:  with detail`,
		`2026-12-03 15:34:24.833 GMT [13070] FATAL:  configuration file "/dev/fd/3" contains errors`,
	}, "\n")
	probs, unknown := parse(out, []Param{{"a", "1"}, {"b", "2"}})
	assert.Empty(t, unknown)
	assert.Equal(t, []Problem{{Name: "b", Message: `syntax error in file "/dev/fd/3" line 2, near token "x"`}, {Name: "", Message: "something nobody expected with detail"}}, probs)
}

func TestDistance(t *testing.T) {
	assert.Equal(t, 0, distance("a", "a"))
	assert.Equal(t, 1, distance("shared_bufers", "shared_buffers"))
	assert.Equal(t, 3, distance("kitten", "sitting"))
	assert.Equal(t, 3, distance("", "abc"))
}
