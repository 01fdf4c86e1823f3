package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
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
