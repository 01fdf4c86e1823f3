package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

func TestTextFormat(t *testing.T) {
	var out bytes.Buffer
	log := New(Options{Format: "text", Level: "DEBUG", Out: &out})
	log.Info("starting PostgreSQL", zap.String("pgdata", "/var/lib/postgresql/data"), zap.Int("port", 5432))
	log.Warn("a message", zap.String("detail", "two words"), zap.Duration("took", 1500*time.Millisecond))
	log.Debug("dbg")
	log.Error("failed", zap.Error(errors.New("boom")))
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 4)
	re := regexp.MustCompile(`^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] \[(INFO|WARN|DEBUG|ERROR)\] `)
	for _, l := range lines {
		assert.Regexp(t, re, string(l))
	}
	assert.Contains(t, string(lines[0]), "[INFO] starting PostgreSQL pgdata=/var/lib/postgresql/data port=5432")
	assert.Contains(t, string(lines[1]), `[WARN] a message detail="two words" took=1.5s`)
	assert.Contains(t, string(lines[2]), "[DEBUG] dbg")
	assert.Contains(t, string(lines[3]), "[ERROR] failed error=boom")
}

func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  int
	}{{"debug", 4}, {"INFO", 3}, {"Warn", 2}, {"warning", 2}, {"ERROR", 1}} {
		var out bytes.Buffer
		log := New(Options{Level: tc.level, Out: &out})
		log.Debug("d")
		log.Info("i")
		log.Warn("w")
		log.Error("e")
		assert.Equal(t, tc.want, bytes.Count(out.Bytes(), []byte("\n")), tc.level)
	}
	_, err := ParseLevel("verbose")
	assert.ErrorContains(t, err, "debug, info, warn, error")
}

func TestJSONFormat(t *testing.T) {
	var out bytes.Buffer
	log := New(Options{Format: "JSON", Out: &out}).With(zap.String("plugin", "example"))
	log.Info("hello", zap.Int("n", 1))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "info", m["level"])
	assert.Equal(t, "hello", m["msg"])
	assert.Equal(t, "example", m["plugin"])
	assert.EqualValues(t, 1, m["n"])
	assert.NotEmpty(t, m["ts"])
}

func TestWithFieldsInText(t *testing.T) {
	var out bytes.Buffer
	log := New(Options{Out: &out}).With(zap.String("plugin", "example")).Named("host")
	log.Info("started")
	assert.Contains(t, out.String(), "[INFO] host: started plugin=example")
}

// TestTextFormatCannotBeForged: whatever a message, a field key or value or
// a logger name holds (a file name in /docker-entrypoint-initdb.d with a
// newline, a plugin's output, a carriage return that overwrites the line on
// a terminal, an escape sequence, a Unicode line separator, a stray byte),
// one log call is exactly one text line, and the text is still readable.
func TestTextFormatCannotBeForged(t *testing.T) {
	const forged = "[2026-01-01T00:00:00Z] [INFO] PostgreSQL is ready"
	for _, tc := range []struct {
		name string
		log  func(*zap.Logger)
		want string
	}{
		{"newline in the message", func(l *zap.Logger) { l.Info("running /docker-entrypoint-initdb.d/a.sh\n" + forged) }, `running /docker-entrypoint-initdb.d/a.sh\n[2026`},
		{"carriage return", func(l *zap.Logger) { l.Info("x\r" + forged) }, `x\r[2026`},
		{"escape sequence", func(l *zap.Logger) { l.Warn("\x1b[2Khidden") }, `\x1b[2Khidden`},
		{"line separator", func(l *zap.Logger) { l.Info("a\u2028" + forged) }, `a\u2028[2026`},
		{"next line", func(l *zap.Logger) { l.Info("a\u0085" + forged) }, `a\u0085[2026`},
		{"vertical tab and form feed", func(l *zap.Logger) { l.Info("a\v\f" + forged) }, `a\v\f[2026`},
		{"stray byte", func(l *zap.Logger) { l.Info("a\xff\n" + forged) }, `a\xff\n[2026`},
		{"field value", func(l *zap.Logger) { l.Info("m", zap.String("file", "a\n"+forged)) }, `file="a\n[2026`},
		{"field value with a carriage return only", func(l *zap.Logger) { l.Info("m", zap.String("file", "a\rb")) }, `file="a\rb"`},
		{"field key", func(l *zap.Logger) { l.Info("m", zap.String("k\n"+forged, "v")) }, `k\n[2026`},
		{"error field", func(l *zap.Logger) { l.Error("m", zap.Error(errors.New("boom\n"+forged))) }, `error="boom\n[2026`},
		{"logger name", func(l *zap.Logger) { l.Named("p\n" + forged).Info("m") }, `p\n[2026`},
		{"with fields", func(l *zap.Logger) { l.With(zap.String("plugin", "x\ny")).Info("m") }, `plugin="x\ny"`},
		{"tab", func(l *zap.Logger) { l.Info("a\tb", zap.String("v", "c\td")) }, `a\tb v="c\td"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			tc.log(New(Options{Format: "text", Out: &out}))
			s := out.String()
			require.True(t, strings.HasSuffix(s, "\n"), "%q", s)
			body := strings.TrimSuffix(s, "\n")
			for _, bad := range []string{"\n", "\r", "\x1b", "\u2028", "\u0085", "\v", "\f", "\xff"} {
				assert.NotContains(t, body, bad, "%q", s)
			}
			assert.Contains(t, body, tc.want)
		})
	}
	// Ordinary text is untouched: backslashes, quotes in messages, non-ASCII.
	var out bytes.Buffer
	New(Options{Out: &out}).Info(`C:\dir "quoted" Grüße`, zap.String("path", `a\b`))
	assert.Contains(t, out.String(), `[INFO] C:\dir "quoted" Grüße path=a\b`+"\n")
}

// TestJSONFormatEscapes: JSON lines escape control characters by
// themselves; the value decodes back unchanged.
func TestJSONFormatEscapes(t *testing.T) {
	var out bytes.Buffer
	New(Options{Format: "json", Out: &out}).Info("a\nb", zap.String("f", "c\rd"))
	require.Equal(t, 1, strings.Count(out.String(), "\n"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, "a\nb", m["msg"])
	assert.Equal(t, "c\rd", m["f"])
}
