package config

import (
	"fmt"
	"slices"
	"strings"
)

// secretVars may be given as NAME_FILE (a path whose content, trailing
// newlines stripped, becomes NAME). The official image's four come first.
var secretVars = []string{
	"POSTGRES_PASSWORD",
	"POSTGRES_USER",
	"POSTGRES_DB",
	"POSTGRES_INITDB_ARGS",
	"REPLICATION_PASSWORD",
	"PATRONI_REPLICATION_PASSWORD",
	"PATRONI_SUPERUSER_PASSWORD",
	"PATRONI_REST_PASSWORD",
	"PGBACKREST_REPO_CIPHER_PASS",
	"PGBACKREST_REPO_S3_KEY",
	"PGBACKREST_REPO_S3_KEY_SECRET",
	"PGBACKREST_REPO_S3_TOKEN",
	"PGBACKREST_REPO_S3_SSE_CUSTOMER_KEY",
	"PGBACKREST_REPO_GCS_KEY",
	"PGBACKREST_REPO_AZURE_KEY",
	"PGBACKREST_REPO_SFTP_PRIVATE_KEY_PASSPHRASE",
	"CITUS_COORDINATOR_PASSWORD",
}

// SecretVars returns the variables that accept a <NAME>_FILE form. The list
// is fixed: other *_FILE variables (POSTGRESQL_TLS_CERT_FILE, ...) are plain
// paths, not indirections.
func SecretVars() []string { return slices.Clone(secretVars) }

// resolveFiles replaces each NAME_FILE of SecretVars by NAME=content, as the
// official image's file_env does: both set (non-empty) is an error, an empty
// NAME_FILE counts as unset, and trailing newlines are stripped.
func (l *loader) resolveFiles() {
	for _, name := range secretVars {
		fileVar := name + "_FILE"
		path, ok := l.env[fileVar]
		if !ok {
			continue
		}
		delete(l.env, fileVar)
		if path == "" {
			continue
		}
		if l.env[name] != "" {
			l.problem(name, l.env[name], fmt.Sprintf("both %s and %s are set (but are exclusive)", name, fileVar))
			continue
		}
		b, err := l.readFile(path)
		if err != nil {
			l.problem(fileVar, path, fmt.Sprintf("cannot read the secret file: %v", err))
			continue
		}
		l.env[name] = strings.TrimRight(string(b), "\n")
		l.fromFile[name] = fileVar
	}
}
