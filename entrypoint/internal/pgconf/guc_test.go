package pgconf

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{name: "work_mem"},
		{name: "shared_buffers"},
		{name: "cron.database_name"},
		{name: "pg_stat_monitor.pgsm_max"},
		{name: "_x"},
		{name: "Work_Mem"},
		{name: "a1.b2"},
		{name: "", wantErr: "empty"},
		{name: "1abc", wantErr: "invalid"},
		{name: "a.1b", wantErr: "invalid"},
		{name: "a.b.c", wantErr: "more than one dot"},
		{name: ".a", wantErr: "invalid"},
		{name: "a.", wantErr: "invalid"},
		{name: "work-mem", wantErr: "invalid"},
		{name: "work mem", wantErr: "invalid"},
		{name: "wörk", wantErr: "invalid"},
		{name: "a$b", wantErr: "invalid"},
		{name: "a=b", wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.name)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestQuoteValue(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "", want: "''"},
		{in: "256MB", want: "'256MB'"},
		{in: "it's", want: "'it''s'"},
		{in: `C:\dir`, want: `'C:\\dir'`},
		{in: `\'`, want: `'\\'''`},
		{in: "a # b", want: "'a # b'"},
		{in: "  spaced  ", want: "'  spaced  '"},
		{in: "tab\there", want: "'tab\there'"},
		{in: "日本語 ✓", want: "'日本語 ✓'"},
		{in: `"$user", public`, want: `'"$user", public'`},
		{in: "a\nb", wantErr: "newline"},
		{in: "a\rb", wantErr: "carriage return"},
		{in: "a\x00b", wantErr: "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := QuoteValue(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrUnrepresentable)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			back, ok := deescapeGUCString(got)
			require.True(t, ok)
			assert.Equal(t, tt.in, back)
		})
	}
}

func TestFormatLine(t *testing.T) {
	tests := []struct {
		name, value string
		want        string
		wantErr     string
	}{
		{name: "work_mem", value: "64MB", want: "work_mem = '64MB'"},
		{name: "cron.database_name", value: "app's", want: "cron.database_name = 'app''s'"},
		{name: "bad name", value: "x", wantErr: "invalid"},
		{name: "work_mem", value: "1\n2", wantErr: "parameter work_mem"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			got, err := FormatLine(tt.name, tt.value)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
