package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// unaryCallStd is unaryCall done with net/http's unencrypted HTTP/2 (h2c
// with prior knowledge, Go 1.24+ http.Protocols) over conn.
func unaryCallStd(ctx context.Context, conn net.Conn, method string, request []byte) ([]byte, error) {
	used := false
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &protocols,
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, errors.New("probe: one connection only")
			}
			used = true
			return conn, nil
		},
		DisableCompression: true,
		Proxy:              nil,
	}
	defer tr.CloseIdleConnections()
	msg := make([]byte, 5+len(request)) // gRPC framing: uncompressed, length, message
	binary.BigEndian.PutUint32(msg[1:], uint32(len(request)))
	copy(msg[5:], request)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost"+method, bytes.NewReader(msg))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMessage+6))
	if err != nil {
		return nil, fmt.Errorf("%w: read response: %w", ErrUnreachable, err)
	}
	if len(body) > maxMessage+5 {
		return nil, errors.New("response is too large")
	}
	headers := map[string]string{":status": strconv.Itoa(resp.StatusCode)}
	for _, h := range []http.Header{resp.Header, resp.Trailer} { // trailers-only answers carry grpc-status in the headers
		for k, v := range h {
			if len(v) > 0 {
				headers[strings.ToLower(k)] = v[0]
			}
		}
	}
	return finish(headers, body)
}
