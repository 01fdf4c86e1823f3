package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
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

// MaxSecretBytes bounds every secret value and every NAME_FILE: 65535 bytes
// is the longest password PostgreSQL accepts from a client
// (PG_MAX_AUTH_TOKEN_LENGTH), and it keeps NAME=value far below the kernel's
// limit for one environment string (128 KiB, MAX_ARG_STRLEN), which init
// scripts and initdb inherit.
const MaxSecretBytes = 65535

// ReadSecretFile reads a NAME_FILE the way Load does by default: it follows
// symbolic links (Docker and Kubernetes secrets are often links), opens
// without blocking, refuses anything that is not a regular file (a FIFO, a
// device such as /dev/zero, a socket, a directory) before reading a byte,
// and reads at most MaxSecretBytes+1 bytes, so a hostile path can neither
// hang the entrypoint nor exhaust its memory.
func ReadSecretFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); a secret file must be a plain file", path, fileKind(fi.Mode()))
	}
	if fi.Size() > MaxSecretBytes+1 { // one trailing newline beyond the bound is fine
		return nil, fmt.Errorf("%w: %s has %d bytes", errSecretTooLong, path, fi.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretBytes+2))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSecretBytes+1 { // it grew while we read
		return nil, fmt.Errorf("%w: %s has more than %d bytes", errSecretTooLong, path, MaxSecretBytes+1)
	}
	return b, nil
}

var errSecretTooLong = fmt.Errorf("longer than %d bytes", MaxSecretBytes)

// fileKind names a non-regular file type for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "type " + m.Type().String()
}

// resolveFiles replaces each NAME_FILE of SecretVars by NAME=content, as the
// official image's file_env does: both set (non-empty) is an error, an empty
// NAME_FILE counts as unset, and trailing newlines are stripped. The content
// is checked by checkSecretValue like a value set directly.
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
			msg := fmt.Sprintf("cannot read the secret file: %v", err)
			if errors.Is(err, errSecretTooLong) {
				msg = fmt.Sprintf("the secret file is too long (%v); at most %d bytes are accepted", err, MaxSecretBytes)
			}
			l.problem(fileVar, path, msg)
			continue
		}
		v := strings.TrimRight(string(b), "\n")
		if msg := secretValueProblem(name, v); msg != "" {
			l.problem(fileVar, path, msg)
			continue
		}
		l.env[name] = v
		l.fromFile[name] = fileVar
	}
	for _, name := range secretVars {
		if v := l.env[name]; v != "" && l.fromFile[name] == "" {
			if msg := secretValueProblem(name, v); msg != "" {
				l.problem(name, v, msg)
				delete(l.env, name)
			}
		}
	}
}

// secretValueProblem checks a value of a SecretVars variable: no NUL byte
// (only a file can carry one), at most MaxSecretBytes, and a password on
// one line (initdb keeps only the first line of the password it is given,
// and strips a carriage return at its end).
func secretValueProblem(name, v string) string {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return "contains a NUL byte, which no environment variable, command argument or password can carry"
	case len(v) > MaxSecretBytes:
		return fmt.Sprintf("is %d bytes long; at most %d bytes are accepted (the longest password PostgreSQL accepts from a client)", len(v), MaxSecretBytes)
	case strings.HasSuffix(name, "PASSWORD") && strings.ContainsAny(v, "\r\n"):
		return "must be a single line: it contains a line break (newline or carriage return), and initdb would silently keep only part of it (one trailing newline in a _FILE is fine)"
	}
	return ""
}
