package logging

import (
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options selects the logger's format and threshold.
type Options struct {
	Level  string    // debug, info, warn or error (any case); empty = info
	Format string    // text (default) or json
	Out    io.Writer // destination; the entrypoint passes os.Stderr
}

// ParseLevel maps a LOG_LEVEL value (any case; "warning" accepted) to a zap level.
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return zapcore.InfoLevel, nil
	case "debug":
		return zapcore.DebugLevel, nil
	case "warn", "warning":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return zapcore.InfoLevel, fmt.Errorf("unknown log level %q: must be one of debug, info, warn, error", s)
}

// New builds a logger. Unknown levels or formats fall back to info/text so
// that configuration errors can still be reported; validation catches them.
func New(o Options) *zap.Logger {
	lvl, _ := ParseLevel(o.Level)
	var enc zapcore.Encoder
	if strings.EqualFold(o.Format, "json") {
		enc = zapcore.NewJSONEncoder(zapcore.EncoderConfig{
			TimeKey:        "ts",
			LevelKey:       "level",
			MessageKey:     "msg",
			NameKey:        "logger",
			EncodeTime:     zapcore.ISO8601TimeEncoder,
			EncodeLevel:    zapcore.LowercaseLevelEncoder,
			EncodeDuration: zapcore.StringDurationEncoder,
			LineEnding:     zapcore.DefaultLineEnding,
		})
	} else {
		enc = newTextEncoder()
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(o.Out), lvl)
	return zap.New(core)
}

// textEncoder renders `[ts] [LEVEL] message key=value ...`.
type textEncoder struct {
	zapcore.Encoder // a JSON encoder reused for field rendering
}

func newTextEncoder() zapcore.Encoder {
	return textEncoder{Encoder: zapcore.NewJSONEncoder(zapcore.EncoderConfig{EncodeDuration: zapcore.StringDurationEncoder, EncodeTime: zapcore.ISO8601TimeEncoder})}
}

func (e textEncoder) Clone() zapcore.Encoder {
	return textEncoder{Encoder: e.Encoder.Clone()}
}

func (e textEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*bufferType, error) {
	// Render fields (including those added With()) through the embedded JSON
	// encoder, then rewrite {"a":1,"b":"x"} as a=1 b=x.
	buf, err := e.Encoder.EncodeEntry(zapcore.Entry{}, fields)
	if err != nil {
		return nil, err
	}
	raw := strings.TrimSpace(buf.String())
	buf.Reset()
	buf.AppendString("[")
	buf.AppendString(ent.Time.UTC().Format(time.RFC3339))
	buf.AppendString("] [")
	buf.AppendString(levelName(ent.Level))
	buf.AppendString("] ")
	if ent.LoggerName != "" {
		buf.AppendString(escapeControl(ent.LoggerName))
		buf.AppendString(": ")
	}
	buf.AppendString(escapeControl(ent.Message))
	if kv := flattenJSON(raw); kv != "" {
		buf.AppendString(" ")
		buf.AppendString(kv)
	}
	buf.AppendString("\n")
	return buf, nil
}

func levelName(l zapcore.Level) string {
	switch l {
	case zapcore.DebugLevel:
		return "DEBUG"
	case zapcore.InfoLevel:
		return "INFO"
	case zapcore.WarnLevel:
		return "WARN"
	default:
		return "ERROR"
	}
}
