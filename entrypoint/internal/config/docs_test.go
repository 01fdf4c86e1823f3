package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsListEveryVariable keeps docs/configuration.md in step with the
// tables in this package.
func TestDocsListEveryVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	doc := string(b)
	has := func(name string) {
		t.Helper()
		assert.Contains(t, doc, "`"+name+"`", "docs/configuration.md does not mention %s", name)
	}
	for _, a := range Aliases() {
		if a.Prefix {
			has(a.Old + "<X>")
			has(a.New + "<X>")
			continue
		}
		assert.Regexp(t, "\\| `"+a.Old+"` \\| `"+a.New+"` \\|", doc, "alias row %s → %s", a.Old, a.New)
	}
	for _, s := range SecretVars() {
		has(s)
	}
	for _, n := range noEffect {
		has(n.Var)
	}
	for _, n := range namedSettings {
		has(n.Var)
	}
	for guc, use := range reservedGUCs {
		has(guc)
		if !strings.Contains(use, " ") {
			has(use)
		}
	}
	for _, v := range []string{
		"POSTGRES_PASSWORD", "POSTGRES_USER", "POSTGRES_DB", "POSTGRES_INITDB_ARGS", "POSTGRES_INITDB_WALDIR",
		"POSTGRES_HOST_AUTH_METHOD", "PGDATA", "PGPORT", "PGCONFIG", "POSTGRESQL_CONFIG_FILE", "POSTGRESQL_CONFIG_<NAME>",
		"PG_HBA_ADD_<n>", "POSTGRESQL_TLS_CERT_FILE", "POSTGRESQL_TLS_KEY_FILE", "POSTGRESQL_TLS_CA_FILE",
		"POSTGRESQL_UNIX_SOCKET_DIRECTORIES", "EXTERNAL_ACCESS_ENABLE", "SLEEP_MODE", "TIMEOUT", "SHUTDOWN_MODE",
		"LOG_LEVEL", "LOG_FORMAT", "PGDOCK_PLUGIN_DIR", "PGDOCK_STATE_DIR",
	} {
		has(v)
	}
	assert.Contains(t, doc, "## Plugin variables")
}
