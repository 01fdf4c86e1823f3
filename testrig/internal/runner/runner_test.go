package runner

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pgdock/pgdock/testrig/internal/engine"
	"github.com/pgdock/pgdock/testrig/internal/scenario"
)

func TestSelect(t *testing.T) {
	all := []scenario.Scenario{{Name: "direct"}, {Name: "user"}, {Name: "sleep"}}
	for _, tc := range []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{nil, []string{"direct", "user", "sleep"}, ""},
		{[]string{"sleep", "direct"}, []string{"sleep", "direct"}, ""},
		{[]string{"sleep", "sleep"}, []string{"sleep"}, ""},
		{[]string{"patroni"}, nil, `unknown scenario "patroni" (known: direct, user, sleep)`},
	} {
		got, err := Select(all, tc.args)
		if tc.wantErr != "" {
			assert.EqualError(t, err, tc.wantErr)
			continue
		}
		require.NoError(t, err)
		var names []string
		for _, s := range got {
			names = append(names, s.Name)
		}
		assert.Equal(t, tc.want, names)
	}
}

func TestRunValidates(t *testing.T) {
	_, err := Run(context.Background(), Options{})
	assert.ErrorContains(t, err, "no Engine driver")
}

func engineHooks() engine.Hooks { return engine.Hooks{} }

func TestRunOneTimeout(t *testing.T) {
	s := scenario.Scenario{Name: "slow", Timeout: 50 * time.Millisecond, Run: func(ctx context.Context, tt *scenario.T) {
		<-ctx.Done() // a step that only ends when its context does
	}}
	tt := scenario.NewT(scenario.Env{}, s)
	runOne(context.Background(), s, tt)
	res, err := tt.Finish(false)
	require.NoError(t, err)
	require.Len(t, res.Checks, 1)
	assert.Equal(t, "timeout", res.Checks[0].Name)
	assert.Contains(t, res.Checks[0].Message, "ran past its 50ms timeout")
}
