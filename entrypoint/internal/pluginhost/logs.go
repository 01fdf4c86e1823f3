package pluginhost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hclogZap is the hclog.Logger go-plugin logs through. go-plugin logs the
// plugin's stderr through a sub-logger named after the binary: those lines
// are the plugin's own and keep their level. Everything else is go-plugin's
// chatter (handshake steps, process exits the Manager reports itself) and is
// logged at debug.
type hclogZap struct {
	z        *zap.Logger
	binary   string // base name of the plugin binary
	name     string
	own      bool // lines from the plugin itself
	implied  []interface{}
	minLevel hclog.Level
}

var _ hclog.Logger = (*hclogZap)(nil)

func newHCLogZap(z *zap.Logger, binary string) *hclogZap {
	return &hclogZap{z: z, binary: binary, minLevel: hclogLevel(z)}
}

func hclogLevel(z *zap.Logger) hclog.Level {
	switch {
	case z.Core().Enabled(zapcore.DebugLevel):
		return hclog.Debug
	case z.Core().Enabled(zapcore.InfoLevel):
		return hclog.Info
	case z.Core().Enabled(zapcore.WarnLevel):
		return hclog.Warn
	default:
		return hclog.Error
	}
}

// skippedKeys are hclog bookkeeping fields with no value in our output.
func skippedKey(k string) bool {
	switch k {
	case "timestamp", "@module", "@caller":
		return true
	}
	return false
}

func (l *hclogZap) Log(level hclog.Level, msg string, args ...interface{}) {
	lvl := zapcore.DebugLevel
	if l.own {
		switch level {
		case hclog.Info:
			lvl = zapcore.InfoLevel
		case hclog.Warn:
			lvl = zapcore.WarnLevel
		case hclog.Error:
			lvl = zapcore.ErrorLevel
		}
	}
	ce := l.z.Check(lvl, msg)
	if ce == nil {
		return
	}
	all := append(append([]interface{}{}, l.implied...), args...)
	fields := make([]zap.Field, 0, len(all)/2)
	for i := 0; i+1 < len(all); i += 2 {
		k := fmt.Sprint(all[i])
		if skippedKey(k) {
			continue
		}
		fields = append(fields, zap.Any(k, all[i+1]))
	}
	if !l.own {
		fields = append(fields, zap.String("source", "go-plugin"))
	}
	ce.Write(fields...)
}

func (l *hclogZap) Trace(msg string, args ...interface{}) { l.Log(hclog.Trace, msg, args...) }
func (l *hclogZap) Debug(msg string, args ...interface{}) { l.Log(hclog.Debug, msg, args...) }
func (l *hclogZap) Info(msg string, args ...interface{})  { l.Log(hclog.Info, msg, args...) }
func (l *hclogZap) Warn(msg string, args ...interface{})  { l.Log(hclog.Warn, msg, args...) }
func (l *hclogZap) Error(msg string, args ...interface{}) { l.Log(hclog.Error, msg, args...) }
func (l *hclogZap) IsTrace() bool                         { return false }
func (l *hclogZap) IsDebug() bool                         { return l.minLevel <= hclog.Debug }
func (l *hclogZap) IsInfo() bool                          { return l.minLevel <= hclog.Info }
func (l *hclogZap) IsWarn() bool                          { return l.minLevel <= hclog.Warn }
func (l *hclogZap) IsError() bool                         { return l.minLevel <= hclog.Error }
func (l *hclogZap) ImpliedArgs() []interface{}            { return l.implied }
func (l *hclogZap) Name() string                          { return l.name }
func (l *hclogZap) SetLevel(level hclog.Level)            { l.minLevel = level }
func (l *hclogZap) GetLevel() hclog.Level                 { return l.minLevel }

func (l *hclogZap) With(args ...interface{}) hclog.Logger {
	c := *l
	c.implied = append(append([]interface{}{}, l.implied...), args...)
	return &c
}

func (l *hclogZap) Named(name string) hclog.Logger {
	c := *l
	if l.name != "" {
		c.name = l.name + "." + name
	} else {
		c.name = name
	}
	// go-plugin names the plugin-stderr logger after the binary.
	c.own = l.own || name == l.binary
	return &c
}

func (l *hclogZap) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	c.own = name == l.binary
	return &c
}

func (l *hclogZap) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *hclogZap) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineWriter{emit: func(line string) { l.Info(line) }}
}

// lineWriter splits what is written to it into lines and emits each one.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(line string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		if line != "" {
			w.emit(line)
		}
	}
	return len(p), nil
}

// tail keeps the last lines a plugin printed, for crash reports.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

const (
	tailLines   = 20
	tailLineMax = 512
)

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) add(line string) {
	if len(line) > tailLineMax {
		line = line[:tailLineMax] + "…"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tail) snapshot() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.lines...)
}

// readable renders an hclog JSON line as "[LEVEL] message k=v ..." and
// returns any other line unchanged.
func readable(line string) string {
	if !strings.HasPrefix(line, "{") {
		return line
	}
	var m map[string]interface{}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return line
	}
	msg, _ := m["@message"].(string)
	level, _ := m["@level"].(string)
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(level), msg)
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(k, "@") {
			continue
		}
		fmt.Fprintf(&b, " %s=%v", k, m[k])
	}
	return b.String()
}
