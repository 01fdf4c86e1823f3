// Package logging builds the entrypoint's zap logger: one stream (stderr, the
// same one PostgreSQL writes to) in the original container's text format
// `[2025-09-22T10:00:00Z] [INFO] message key=value`, or JSON on request.
// In text, control characters of messages, keys and values are written as
// Go escapes (\n, \r, \x1b, \u2028), so one call is always one line and a
// file name or a plugin's output cannot forge log lines.
package logging
