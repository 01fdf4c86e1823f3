package cli

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMainExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string
		wantErrOut string
	}{
		{"list", []string{"list"}, ExitOK, []string{"direct", "user", "sleep", "monitoring", "budgets:"}, ""},
		{"unknown scenario", []string{"run", "--root", "../../..", "nosuch"}, ExitUsage, nil, `unknown scenario "nosuch"`},
		{"bad log level", []string{"run", "--log-level", "loud"}, ExitUsage, nil, "--log-level"},
		{"root without compose", []string{"run", "--root", t.TempDir()}, ExitUsage, nil, "no compose/ directory"},
		{"unknown command", []string{"frobnicate"}, ExitUsage, nil, "unknown command"},
		{"bad --pg", []string{"run", "--root", "../../..", "--pg", "13,fifteen", "sleep"}, ExitUsage, nil, `"fifteen" is not a PostgreSQL major`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(tc.args, "test", &out, &errOut)
			assert.Equal(t, tc.wantCode, code, "stdout: %s\nstderr: %s", out.String(), errOut.String())
			for _, w := range tc.wantOut {
				assert.Contains(t, out.String(), w)
			}
			if tc.wantErrOut != "" {
				assert.Contains(t, errOut.String(), tc.wantErrOut)
			}
		})
	}
}

func TestRunWithoutEngineFails(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	var out, errOut bytes.Buffer
	code := Main([]string{"run", "--root", "../../..", "sleep"}, "test", &out, &errOut)
	assert.Equal(t, ExitFailed, code, "no Engine is a failure, never a pass or a skip")
	assert.Contains(t, errOut.String(), "Docker Engine not reachable")
}

func TestFindRoot(t *testing.T) {
	root, err := findRoot()
	assert.NoError(t, err)
	assert.FileExists(t, root+"/go.work")
	assert.DirExists(t, root+"/compose")
}

func TestParseMajors(t *testing.T) {
	for in, want := range map[string][]int{
		"":            nil,
		"15":          {15},
		"13,15,17,18": {13, 15, 17, 18},
		"13 15  18":   {13, 15, 18},
		"18, 13,18":   {18, 13},
	} {
		got, err := parseMajors(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"9.6", "x", "13,,abc", "100", "7"} {
		_, err := parseMajors(bad)
		assert.Error(t, err, bad)
	}
}

func TestPGMajorsFromEnvironment(t *testing.T) {
	t.Setenv("PG_MAJORS", "13 oops")
	var out, errOut bytes.Buffer
	code := Main([]string{"run", "--root", "../../..", "sleep"}, "test", &out, &errOut)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut.String(), `"oops" is not a PostgreSQL major`)
}
