package pgwire

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKnock(t *testing.T) {
	tests := []struct {
		name   string
		answer string // what the fake server writes after reading the SSLRequest; "hang" says nothing
		err    string
	}{
		{name: "no SSL (unix socket)", answer: "N"},
		{name: "SSL supported", answer: "S"},
		{name: "fork failure: pre-3.0 error text", answer: "Ecould not fork new process for connection: Resource temporarily unavailable\n\x00",
			err: "server error without SQLSTATE: could not fork new process for connection: Resource temporarily unavailable"},
		{name: "not PostgreSQL", answer: "HTTP/1.1 400 Bad Request\r\n", err: `unexpected answer 'H' to SSLRequest`},
		{name: "closes at once", answer: "", err: "read SSLRequest answer: EOF"},
		{name: "never answers", answer: "hang", err: "no answer in time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
			ln, err := net.Listen("unix", sock)
			require.NoError(t, err)
			defer ln.Close()
			got := make(chan []byte, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				req := make([]byte, 8)
				_, _ = io.ReadFull(c, req)
				got <- req
				if tc.answer == "hang" {
					_, _ = io.Copy(io.Discard, c)
					return
				}
				_, _ = io.WriteString(c, tc.answer)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err = Knock(ctx, "unix", sock)
			if tc.err == "" {
				require.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.err)
			}
			req := <-got
			assert.Equal(t, uint32(8), binary.BigEndian.Uint32(req[:4]))
			assert.Equal(t, uint32(80877103), binary.BigEndian.Uint32(req[4:]))
		})
	}
}
