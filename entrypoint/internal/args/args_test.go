package args

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		kind Kind
		argv []string
		srv  []string
	}{
		{"no args is the CMD", nil, Server, []string{"postgres"}, nil},
		{"postgres", []string{"postgres"}, Server, []string{"postgres"}, nil},
		{"flags prepend postgres", []string{"-c", "shared_buffers=256MB"}, Server, []string{"postgres", "-c", "shared_buffers=256MB"}, []string{"-c", "shared_buffers=256MB"}},
		{"config_file", []string{"postgres", "-c", "config_file=/etc/postgresql.conf"}, Server, []string{"postgres", "-c", "config_file=/etc/postgresql.conf"}, []string{"-c", "config_file=/etc/postgresql.conf"}},
		{"full path postgres", []string{"/usr/lib/postgresql/15/bin/postgres", "-p", "5433"}, Server, []string{"/usr/lib/postgresql/15/bin/postgres", "-p", "5433"}, []string{"-p", "5433"}},
		{"help", []string{"postgres", "--help"}, PostgresDirect, []string{"postgres", "--help"}, nil},
		{"-V via flag form", []string{"-V"}, PostgresDirect, []string{"postgres", "-V"}, nil},
		{"--version", []string{"postgres", "--version"}, PostgresDirect, []string{"postgres", "--version"}, nil},
		{"-?", []string{"postgres", "-?"}, PostgresDirect, []string{"postgres", "-?"}, nil},
		{"describe-config", []string{"postgres", "--describe-config"}, PostgresDirect, []string{"postgres", "--describe-config"}, nil},
		{"-C is not help", []string{"postgres", "-C", "data_directory"}, Server, []string{"postgres", "-C", "data_directory"}, []string{"-C", "data_directory"}},
		{"other command", []string{"bash", "-c", "echo hi"}, Exec, []string{"bash", "-c", "echo hi"}, nil},
		{"psql", []string{"psql", "--version"}, Exec, []string{"psql", "--version"}, nil},
		{"empty first arg", []string{""}, Exec, []string{""}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(tc.in)
			assert.Equal(t, tc.kind, got.Kind)
			assert.Equal(t, tc.argv, got.Argv)
			if tc.kind == Server {
				assert.Equal(t, tc.srv, got.ServerArgs)
			}
		})
	}
}
