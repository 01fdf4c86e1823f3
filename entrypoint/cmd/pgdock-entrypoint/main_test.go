package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/entrypoint/internal/app"
	"github.com/pgdock/pgdock/entrypoint/internal/args"
)

func runArgs(argv ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runCobra(argv, app.Options{Env: map[string]string{}, Stdout: &out, Stderr: &errOut, Version: "1.2.3"})
	return code, out.String(), errOut.String()
}

// TestHelp: `help` lists what pgdock adds (subcommands, how arguments are
// treated, where the variables are documented); `help <subcommand>`
// describes one; an unknown topic is a usage error.
func TestHelp(t *testing.T) {
	code, out, _ := runArgs("help")
	assert.Equal(t, 0, code)
	for _, want := range []string{"pgdock subcommands:", "config", "init", "version", "docs/configuration.md", "PostgreSQL's own options (exec postgres)", "help <subcommand>"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "-h, --help", "-h and --help are PostgreSQL's")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "config"}, []string{"validate", "render", "exit 2"}},
		{[]string{"help", "config", "validate"}, []string{"postgres -C", "SHA256SUMS", "exits 1 wherever a start would refuse"}},
		{[]string{"help", "init"}, []string{"docker-ensure-initdb.sh", "--enforce"}},
		{[]string{"help", "version"}, []string{"print the version"}},
		{[]string{"init", "--help"}, []string{"--enforce"}},
	} {
		code, out, _ := runArgs(tc.args...)
		assert.Equal(t, 0, code, "%q", tc.args)
		for _, w := range tc.want {
			assert.Contains(t, out, w, "%q", tc.args)
		}
	}
	for _, bad := range [][]string{{"help", "bogus"}, {"help", "config", "nope"}} {
		code, _, errOut := runArgs(bad...)
		assert.Equal(t, 2, code, "%q", bad)
		assert.Contains(t, errOut, "no subcommand", "%q", bad)
	}
}

// TestHelpFlagsArePostgres: --help, -? and friends are not pgdock's
// subcommands; they go to postgres, as with the official image.
func TestHelpFlagsArePostgres(t *testing.T) {
	for _, a := range []string{"--help", "-?", "-V", "--version", "--describe-config"} {
		assert.False(t, isSubcommand(a), a)
		assert.Equal(t, args.PostgresDirect, args.Classify([]string{a}).Kind, a)
	}
	assert.True(t, isSubcommand("help"))
}

// TestVersion: "pgdock-entrypoint <version>", as pgdock-healthcheck prints.
func TestVersion(t *testing.T) {
	code, out, _ := runArgs("version")
	assert.Equal(t, 0, code)
	assert.Equal(t, "pgdock-entrypoint 1.2.3\n", out)
}

// TestConfigUsageErrors: `config` alone or with an unknown subcommand is a
// usage error, exit 2 (docs/modes.md says so).
func TestConfigUsageErrors(t *testing.T) {
	for _, a := range [][]string{{"config"}, {"config", "bogus"}, {"config", "validate", "extra"}, {"version", "x"}} {
		code, _, errOut := runArgs(a...)
		assert.Equal(t, 2, code, "%q", a)
		assert.NotEmpty(t, errOut, "%q", a)
	}
}
