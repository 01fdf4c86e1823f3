// Package logging builds the entrypoint's zap logger: one stream (stderr, the
// same one PostgreSQL writes to) in the original container's text format
// `[2025-09-22T10:00:00Z] [INFO] message key=value`, or JSON on request.
package logging
