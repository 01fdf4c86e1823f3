package sdk_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pgdock/pgdock/plugins/sdk"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{in: "true", want: true}, {in: "TRUE", want: true}, {in: "True", want: true}, {in: " tRuE ", want: true},
		{in: "1", want: true}, {in: "yes", want: true}, {in: "YES", want: true}, {in: "on", want: true}, {in: "On", want: true},
		{in: "false"}, {in: "FALSE"}, {in: "0"}, {in: "no"}, {in: "No"}, {in: "off"}, {in: "OFF"}, {in: "\toff\n"},
		// strconv.ParseBool accepts these; the contract does not.
		{in: "t", wantErr: true}, {in: "F", wantErr: true},
		{in: "", wantErr: true}, {in: "y", wantErr: true}, {in: "n", wantErr: true}, {in: "2", wantErr: true},
		{in: "-1", wantErr: true}, {in: "enabled", wantErr: true}, {in: "truee", wantErr: true}, {in: "o n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := sdk.ParseBool(tt.in)
			if tt.wantErr {
				assert.True(t, errors.Is(err, sdk.ErrNotBool), "%q: %v", tt.in, err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
