package sdk

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Degraded crosses the wire only with Healthy: an unhealthy answer is
// unhealthy, whatever else it says.
func TestHealthConversionKeepsDegradedOnlyWhenHealthy(t *testing.T) {
	tests := []struct {
		in   Health
		want Health
	}{
		{Health{Healthy: true}, Health{Healthy: true}},
		{Health{Healthy: true, Degraded: true, Message: "stale backup"}, Health{Healthy: true, Degraded: true, Message: "stale backup"}},
		{Health{Degraded: true, Message: "down"}, Health{Message: "down"}},
		{Health{Message: "down", Details: map[string]string{"a": "b"}}, Health{Message: "down", Details: map[string]string{"a": "b"}}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, healthFromProto(healthToProto(tt.in)), "%+v", tt.in)
	}
}
