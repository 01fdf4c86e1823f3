package pluginhost

import (
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestHCLogZapLevels(t *testing.T) {
	tests := []struct {
		name   string
		own    bool // through the logger go-plugin names after the binary
		level  hclog.Level
		want   zapcore.Level
		source bool
	}{
		{name: "plugin trace", own: true, level: hclog.Trace, want: zapcore.DebugLevel},
		{name: "plugin debug", own: true, level: hclog.Debug, want: zapcore.DebugLevel},
		{name: "plugin info", own: true, level: hclog.Info, want: zapcore.InfoLevel},
		{name: "plugin warn", own: true, level: hclog.Warn, want: zapcore.WarnLevel},
		{name: "plugin error", own: true, level: hclog.Error, want: zapcore.ErrorLevel},
		{name: "go-plugin error is debug", level: hclog.Error, want: zapcore.DebugLevel, source: true},
		{name: "go-plugin info is debug", level: hclog.Info, want: zapcore.DebugLevel, source: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			var l hclog.Logger = newHCLogZap(zap.New(core), "pgdock-plugin-x")
			if tt.own {
				l = l.Named("pgdock-plugin-x")
			} else {
				l = l.Named("stdio")
			}
			l.With("implied", 1).Log(tt.level, "msg", "k", "v", "timestamp", "t", "@module", "m")
			all := logs.All()
			if assert.Len(t, all, 1) {
				assert.Equal(t, tt.want, all[0].Level)
				fields := all[0].ContextMap()
				assert.Equal(t, "v", fields["k"])
				assert.EqualValues(t, 1, fields["implied"])
				assert.NotContains(t, fields, "timestamp")
				assert.NotContains(t, fields, "@module")
				_, hasSource := fields["source"]
				assert.Equal(t, tt.source, hasSource)
			}
		})
	}
}

func TestHCLogZapFollowsTheZapLevel(t *testing.T) {
	tests := []struct {
		zap    zapcore.Level
		want   hclog.Level
		logged int // of trace, debug, info, warn, error (trace is logged at debug)
	}{
		{zapcore.DebugLevel, hclog.Debug, 5},
		{zapcore.InfoLevel, hclog.Info, 3},
		{zapcore.WarnLevel, hclog.Warn, 2},
		{zapcore.ErrorLevel, hclog.Error, 1},
	}
	for _, tt := range tests {
		t.Run(tt.zap.String(), func(t *testing.T) {
			core, logs := observer.New(tt.zap)
			l := newHCLogZap(zap.New(core), "b")
			assert.Equal(t, tt.want, l.GetLevel())
			assert.False(t, l.IsTrace())
			assert.Equal(t, tt.want <= hclog.Debug, l.IsDebug())
			assert.Equal(t, tt.want <= hclog.Info, l.IsInfo())
			assert.Equal(t, tt.want <= hclog.Warn, l.IsWarn())
			assert.True(t, l.IsError())
			own := l.ResetNamed("b")
			own.Debug("d")
			own.Info("i")
			own.Warn("w")
			own.Error("e")
			own.Trace("t")
			assert.Equal(t, tt.logged, logs.Len())
		})
	}
}

func TestHCLogZapHelpers(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := newHCLogZap(zap.New(core), "bin")
	assert.Equal(t, "a.bin", l.Named("a").Named("bin").Name())
	assert.Equal(t, []interface{}{"x", 1}, l.With("x", 1).ImpliedArgs())
	l.SetLevel(hclog.Warn)
	assert.Equal(t, hclog.Warn, l.GetLevel())
	l.ResetNamed("bin").StandardLogger(nil).Println("from the standard logger")
	e := logs.FilterMessage("from the standard logger").All()
	if assert.Len(t, e, 1) {
		assert.Equal(t, zapcore.InfoLevel, e[0].Level)
	}
}

func TestProblemString(t *testing.T) {
	assert.Equal(t, "plugin a: X_VAR: bad", Problem{Plugin: "a", Var: "X_VAR", Message: "bad"}.String())
	assert.Equal(t, "plugin a,b: conflict", Problem{Plugin: "a,b", Message: "conflict"}.String())
}
