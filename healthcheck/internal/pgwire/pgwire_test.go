package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Canned server messages, byte for byte as PostgreSQL sends them.

func message(typ byte, body []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)+4))
	return append(b, body...)
}

func authRequest(code uint32, extra ...byte) []byte {
	body := binary.BigEndian.AppendUint32(nil, code)
	return message('R', append(body, extra...))
}

// errorFields encodes ErrorResponse/NoticeResponse fields, e.g. "C57P03".
func errorFields(fields ...string) []byte {
	var body []byte
	for _, f := range fields {
		body = append(body, f...)
		body = append(body, 0)
	}
	return append(body, 0)
}

func errorResponse(fields ...string) []byte { return message('E', errorFields(fields...)) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// cannedConn is a connection whose server side is canned bytes.
type cannedConn struct {
	io.Reader
	written bytes.Buffer
}

func (c *cannedConn) Write(p []byte) (int, error) { return c.written.Write(p) }

func TestStartupMessage(t *testing.T) {
	msg, err := StartupMessage(Params{User: "alice", Database: "postgres", ApplicationName: "hc"})
	require.NoError(t, err)
	want := concat(
		[]byte{0, 0, 0, 58, 0, 3, 0, 0},
		[]byte("user\x00alice\x00database\x00postgres\x00application_name\x00hc\x00\x00"),
	)
	assert.Equal(t, want, msg)

	msg, err = StartupMessage(Params{User: "bob"})
	require.NoError(t, err)
	assert.Equal(t, concat([]byte{0, 0, 0, 18, 0, 3, 0, 0}, []byte("user\x00bob\x00\x00")), msg, "empty parameters are left out")

	_, err = StartupMessage(Params{User: "a\x00b"})
	assert.ErrorContains(t, err, "NUL")
}

func TestExchangeCannedBytes(t *testing.T) {
	paramStatus := message('S', []byte("server_version\x0015.8\x00"))
	keyData := message('K', make([]byte, 8))
	ready := message('Z', []byte{'I'})
	tests := []struct {
		name       string
		server     []byte
		status     Status
		auth       int32
		code       string
		message    string
		terminated bool // Terminate sent back
		err        string
	}{
		{name: "57P03 starting up", server: errorResponse("SFATAL", "VFATAL", "C57P03", "Mthe database system is starting up"),
			status: Rejecting, auth: -1, code: "57P03", message: "the database system is starting up"},
		{name: "57P03 shutting down", server: errorResponse("SFATAL", "VFATAL", "C57P03", "Mthe database system is shutting down"),
			status: Rejecting, auth: -1, code: "57P03", message: "the database system is shutting down"},
		{name: "57P03 recovery without hot standby", server: errorResponse("SFATAL", "VFATAL", "C57P03", "Mthe database system is not accepting connections", "DHot standby mode is disabled."),
			status: Rejecting, auth: -1, code: "57P03", message: "the database system is not accepting connections"},
		{name: "28P01 bad password is up", server: errorResponse("SFATAL", "C28P01", "Mpassword authentication failed for user \"x\""),
			status: Accepting, auth: -1, code: "28P01"},
		{name: "28000 unknown role is up", server: errorResponse("SFATAL", "C28000", "Mrole \"x\" does not exist"),
			status: Accepting, auth: -1, code: "28000"},
		{name: "53300 too many connections is up", server: errorResponse("SFATAL", "C53300", "Msorry, too many clients already"),
			status: Accepting, auth: -1, code: "53300"},
		{name: "SASL request: ready, no password sent", server: authRequest(10, []byte("SCRAM-SHA-256\x00\x00")...),
			status: Accepting, auth: 10},
		{name: "md5 request", server: authRequest(5, 1, 2, 3, 4), status: Accepting, auth: 5},
		{name: "trust: AuthenticationOk to ReadyForQuery, then Terminate",
			server: concat(authRequest(0), paramStatus, paramStatus, keyData, ready),
			status: Accepting, auth: 0, terminated: true},
		{name: "AuthenticationOk then FATAL is up", server: concat(authRequest(0), errorResponse("SFATAL", "C3D000", "Mdatabase \"postgres\" does not exist")),
			status: Accepting, auth: 0, code: "3D000"},
		{name: "AuthenticationOk then EOF is up", server: authRequest(0), status: Accepting, auth: 0},
		{name: "AuthenticationOk then truncated message is up", server: concat(authRequest(0), paramStatus[:8]), status: Accepting, auth: 0},
		{name: "notice and NegotiateProtocolVersion are skipped",
			server: concat(message('N', errorFields("SNOTICE", "C00000", "Mhello")), message('v', []byte{0, 0, 0, 0, 0, 0, 0, 0}), authRequest(10)),
			status: Accepting, auth: 10},
		{name: "localized severity only", server: errorResponse("SFATAL", "C57P03", "Mx"), status: Rejecting, auth: -1, code: "57P03"},

		{name: "pre-3.0 error text (fork failure)", server: []byte("Ecould not fork new process for connection: Resource temporarily unavailable\n\x00"),
			status: NoResponse, auth: -1, err: "server error without SQLSTATE: could not fork new process"},
		{name: "pre-3.0 error text shorter than a header", server: []byte("Eab\x00\x00"), status: NoResponse, auth: -1, err: "server error without SQLSTATE: ab"},
		{name: "error without SQLSTATE", server: errorResponse("SFATAL", "Mmystery"), status: NoResponse, auth: -1, err: "without SQLSTATE: mystery"},
		{name: "HTTP server", server: []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), status: NoResponse, auth: -1, err: "not a PostgreSQL server"},
		{name: "unknown message type", server: message('Q', []byte("x")), status: NoResponse, auth: -1, err: "unexpected message type"},
		{name: "closed without a word", server: nil, status: NoResponse, auth: -1, err: "read server response"},
		{name: "truncated body", server: authRequest(10)[:7], status: NoResponse, auth: -1, err: "read server response"},
		{name: "short authentication message", server: message('R', []byte{0, 0}), status: NoResponse, auth: -1, err: "short authentication message"},
		{name: "ReadyForQuery before authentication", server: ready, status: NoResponse, auth: -1, err: "ReadyForQuery before authentication"},
		{name: "absurd length", server: []byte{'S', 0x7f, 0, 0, 0}, status: NoResponse, auth: -1, err: "invalid message length"},
		{name: "endless parameter status", server: concat(authRequest(0), bytes.Repeat(paramStatus, maxMessages)), status: Accepting, auth: 0, err: "too many messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := &cannedConn{Reader: bytes.NewReader(tc.server)}
			resp, err := Exchange(conn, Params{User: "postgres", Database: "postgres"})
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.auth, resp.AuthRequest)
			assert.Equal(t, tc.code, resp.Code)
			if tc.message != "" {
				assert.Equal(t, tc.message, resp.Message)
			}
			startup, _ := StartupMessage(Params{User: "postgres", Database: "postgres"})
			require.True(t, bytes.HasPrefix(conn.written.Bytes(), startup), "the startup message goes first")
			assert.Equal(t, tc.terminated, bytes.HasSuffix(conn.written.Bytes(), []byte(terminate)), "Terminate only after ReadyForQuery")
		})
	}
}

func TestErrorFields(t *testing.T) {
	var resp Response
	fillError(&resp, errorFields("VFATAL", "SFATAL-localized", "C57P03", "Mmsg", "Ddetail", "Hhint"))
	assert.Equal(t, Response{Severity: "FATAL", Code: "57P03", Message: "msg", Detail: "detail"}, resp)

	resp = Response{}
	fillError(&resp, []byte("Mno terminator"))
	assert.Equal(t, "no terminator", resp.Message, "a field without its NUL still decodes")
}

func TestExchangeWriteError(t *testing.T) {
	_, err := Exchange(failingWriter{}, Params{User: "postgres"})
	assert.ErrorContains(t, err, "send startup message")
	_, err = Exchange(failingWriter{}, Params{User: "\x00"})
	assert.ErrorContains(t, err, "NUL")
}

type failingWriter struct{}

func (failingWriter) Read([]byte) (int, error)  { return 0, io.EOF }
func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// cannedServer answers every connection on a real unix socket with reply
// (or with nothing, holding the connection open, when reply is nil).
func cannedServer(t *testing.T, reply []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".s.PGSQL.5432")
	l, err := net.Listen("unix", path)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				_, _ = c.Read(buf)
				if reply == nil {
					_, _ = io.Copy(io.Discard, c) // until the client hangs up
					return
				}
				_, _ = c.Write(reply)
			}()
		}
	}()
	return path
}

func TestPingOverSocket(t *testing.T) {
	path := cannedServer(t, authRequest(10))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := Ping(ctx, "unix", path, Params{User: "postgres", Database: "postgres"})
	require.NoError(t, err)
	assert.Equal(t, Accepting, resp.Status)

	path = cannedServer(t, errorResponse("SFATAL", "C57P03", "Mthe database system is starting up"))
	resp, err = Ping(ctx, "unix", path, Params{User: "postgres"})
	require.NoError(t, err)
	assert.Equal(t, Rejecting, resp.Status)
}

func TestPingTimeout(t *testing.T) {
	path := cannedServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	resp, err := Ping(ctx, "unix", path, Params{User: "postgres"})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, NoResponse, resp.Status)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestPingCancelWithoutDeadline(t *testing.T) {
	path := cannedServer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := Ping(ctx, "unix", path, Params{User: "postgres"})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestPingNoServer(t *testing.T) {
	resp, err := Ping(context.Background(), "unix", filepath.Join(t.TempDir(), ".s.PGSQL.5432"), Params{User: "postgres"})
	require.ErrorContains(t, err, "connect")
	assert.Equal(t, NoResponse, resp.Status)
	assert.Equal(t, int32(-1), resp.AuthRequest)
}

func TestSocketPath(t *testing.T) {
	assert.Equal(t, "/run/postgresql/.s.PGSQL.5432", SocketPath("/run/postgresql", 5432))
	assert.Equal(t, "/tmp/.s.PGSQL.6543", SocketPath("/tmp/", 6543))
}

func TestStatusString(t *testing.T) {
	assert.Equal(t, "accepting", Accepting.String())
	assert.Equal(t, "rejecting", Rejecting.String())
	assert.Equal(t, "no response", NoResponse.String())
}
