package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	p := New(&buf, false)
	p.now = func() time.Time { return time.Date(2026, 1, 1, 12, 0, 1, 500e6, time.UTC) }
	p.Step("direct: waiting for %s", "healthy")
	p.Line("  pass direct: up")
	p.Close()
	p.Close() // idempotent
	assert.Equal(t, "12:00:01.500 direct: waiting for healthy\n12:00:01.500   pass direct: up\n", buf.String())
	assert.NotContains(t, buf.String(), "\r", "no terminal control outside a terminal")
}

func TestTerminalStatusLine(t *testing.T) {
	var buf syncBuffer
	p := New(&buf, true)
	p.Step("direct: up")
	p.Line("  pass direct: up")
	p.Close()
	s := buf.String()
	assert.Contains(t, s, "\r\033[Kdirect: up (", "the status line is drawn in place with its elapsed time")
	assert.Contains(t, s, "\r\033[K  pass direct: up\n", "a permanent line clears the status line first")
	assert.True(t, strings.HasSuffix(s, "\r\033[K"), "Close leaves a clean line: %q", s)
}
