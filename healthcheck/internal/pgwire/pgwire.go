package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Status is the verdict of a ping, with libpq's PQping meanings.
type Status int

// Ping verdicts.
const (
	// NoResponse: nothing answered like PostgreSQL (refused, timeout,
	// garbage, or an error without SQLSTATE). PQPING_NO_RESPONSE.
	NoResponse Status = iota
	// Accepting: the server accepts connections. PQPING_OK.
	Accepting
	// Rejecting: the server answered 57P03 cannot_connect_now. PQPING_REJECT.
	Rejecting
)

// String returns the verdict's name.
func (s Status) String() string {
	switch s {
	case Accepting:
		return "accepting"
	case Rejecting:
		return "rejecting"
	default:
		return "no response"
	}
}

// SQLStateCannotConnectNow is the SQLSTATE of "the database system is
// starting up / shutting down / not accepting connections".
const SQLStateCannotConnectNow = "57P03"

// Authentication request codes of the 'R' message that matter here.
const authOK = 0

const (
	protocolVersion = 3 << 16 // 3.0
	// maxErrLen mirrors libpq's MAX_ERRLEN: an 'E' whose length field is
	// outside [8, maxErrLen] is a pre-3.0 error text (the postmaster still
	// sends those, e.g. on fork failure), not a length.
	maxErrLen   = 30000
	maxMsgLen   = 1 << 20 // no startup-phase message is anywhere near this
	maxMessages = 256     // ParameterStatus and friends after AuthenticationOk
)

// Params are the StartupMessage parameters.
type Params struct {
	User            string
	Database        string
	ApplicationName string
}

// Response is what the server said to the StartupMessage.
type Response struct {
	Status Status
	// AuthRequest is the code of the authentication request the server
	// sent (0 ok, 3 cleartext, 5 md5, 10 SASL), or -1 if it sent none.
	AuthRequest int32
	// Severity, Code, Message and Detail come from an ErrorResponse.
	Severity string
	Code     string
	Message  string
	Detail   string
}

// SocketPath is the path of PostgreSQL's unix socket for port in dir.
func SocketPath(dir string, port int) string {
	return filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
}

// Ping connects to address on network ("unix" with a socket path, or "tcp"
// with host:port), performs the startup exchange and closes the connection.
// ctx bounds everything. A non-nil error always comes with NoResponse.
func Ping(ctx context.Context, network, address string, p Params) (Response, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return Response{Status: NoResponse, AuthRequest: -1}, fmt.Errorf("connect: %w", timedOut(ctx, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return Response{Status: NoResponse, AuthRequest: -1}, fmt.Errorf("set deadline: %w", err)
		}
	}
	// Cancellation without a deadline: unblock reads and writes at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	resp, err := Exchange(conn, p)
	if err != nil {
		return resp, timedOut(ctx, err)
	}
	return resp, nil
}

// timedOut turns an error caused by ctx ending (or by the connection
// deadline taken from it, which may fire a hair earlier) into one that
// wraps ctx's error, so callers can test for context.DeadlineExceeded.
func timedOut(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("no answer in time: %w", ctx.Err())
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no answer in time: %w", context.DeadlineExceeded)
	default:
		return err
	}
}

// Exchange sends the StartupMessage on rw and reads the answer, like Ping
// after the connection is made. Under trust authentication it reads up to
// ReadyForQuery and sends Terminate, so the backend ends quietly.
func Exchange(rw io.ReadWriter, p Params) (Response, error) {
	msg, err := StartupMessage(p)
	if err != nil {
		return Response{Status: NoResponse, AuthRequest: -1}, err
	}
	if _, err := rw.Write(msg); err != nil {
		return Response{Status: NoResponse, AuthRequest: -1}, fmt.Errorf("send startup message: %w", err)
	}
	return readResponse(bufio.NewReaderSize(rw, 1024), rw)
}

// StartupMessage encodes a protocol 3.0 StartupMessage; empty parameters are
// left out.
func StartupMessage(p Params) ([]byte, error) {
	b := make([]byte, 8, 96)
	binary.BigEndian.PutUint32(b[4:], protocolVersion)
	for _, kv := range [...][2]string{{"user", p.User}, {"database", p.Database}, {"application_name", p.ApplicationName}} {
		if kv[1] == "" {
			continue
		}
		if strings.IndexByte(kv[1], 0) >= 0 {
			return nil, fmt.Errorf("startup parameter %s contains a NUL byte", kv[0])
		}
		b = append(b, kv[0]...)
		b = append(b, 0)
		b = append(b, kv[1]...)
		b = append(b, 0)
	}
	b = append(b, 0)
	binary.BigEndian.PutUint32(b[:4], uint32(len(b)))
	return b, nil
}

// terminate is the Terminate message.
const terminate = "X\x00\x00\x00\x04"

func readResponse(r *bufio.Reader, w io.Writer) (Response, error) {
	resp := Response{Status: NoResponse, AuthRequest: -1}
	for range maxMessages {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if resp.Status == Accepting {
				return resp, nil // it closed after accepting us: still up
			}
			return resp, fmt.Errorf("read server response: %w", err)
		}
		typ, n := hdr[0], int(binary.BigEndian.Uint32(hdr[1:]))
		if typ == 'E' && resp.Status != Accepting && (n < 8 || n > maxErrLen) {
			text := preV3Error(hdr[1:], r)
			return resp, fmt.Errorf("server error without SQLSTATE: %s", text)
		}
		if n < 4 || n > maxMsgLen {
			return resp, fmt.Errorf("invalid message length %d for type %q: not a PostgreSQL server?", n, typ)
		}
		body := make([]byte, n-4)
		if _, err := io.ReadFull(r, body); err != nil {
			if resp.Status == Accepting {
				return resp, nil
			}
			return resp, fmt.Errorf("read server response: %w", err)
		}
		switch typ {
		case 'R':
			if len(body) < 4 {
				return resp, errors.New("short authentication message: not a PostgreSQL server?")
			}
			resp.Status = Accepting
			resp.AuthRequest = int32(binary.BigEndian.Uint32(body))
			if resp.AuthRequest != authOK {
				// A password is asked for: the answer is known. Closing now
				// is what PQping does; PostgreSQL logs nothing for it.
				return resp, nil
			}
		case 'E':
			fillError(&resp, body)
			switch {
			case resp.Status == Accepting:
				// After AuthenticationOk (e.g. the database is missing):
				// the server is up.
			case resp.Code == SQLStateCannotConnectNow:
				resp.Status = Rejecting
			case resp.Code == "":
				return resp, fmt.Errorf("server error without SQLSTATE: %s", resp.Message)
			default:
				resp.Status = Accepting // bad role, too many connections…: up
			}
			return resp, nil
		case 'Z':
			if resp.Status != Accepting {
				return resp, errors.New("ReadyForQuery before authentication: not a PostgreSQL server?")
			}
			_, _ = io.WriteString(w, terminate) // leave like PQfinish; the server may be gone already
			return resp, nil
		case 'S', 'K', 'N', 'v':
			// ParameterStatus, BackendKeyData, NoticeResponse,
			// NegotiateProtocolVersion: keep reading.
		default:
			return resp, fmt.Errorf("unexpected message type %q: not a PostgreSQL server?", typ)
		}
	}
	return resp, errors.New("too many messages before ReadyForQuery")
}

// preV3Error reads a NUL-terminated pre-3.0 error text whose first four
// bytes were taken for a length.
func preV3Error(start []byte, r *bufio.Reader) string {
	text := append([]byte(nil), start...)
	if i := strings.IndexByte(string(text), 0); i >= 0 {
		text = text[:i]
	} else {
		for len(text) < maxErrLen {
			c, err := r.ReadByte()
			if err != nil || c == 0 {
				break
			}
			text = append(text, c)
		}
	}
	return strings.TrimSpace(string(text))
}

// fillError decodes ErrorResponse fields into resp.
func fillError(resp *Response, body []byte) {
	for len(body) > 0 && body[0] != 0 {
		field := body[0]
		end := strings.IndexByte(string(body[1:]), 0)
		if end < 0 {
			end = len(body) - 1
		}
		value := string(body[1 : 1+end])
		body = body[min(len(body), 2+end):]
		switch field {
		case 'V':
			resp.Severity = value // non-localized severity wins over 'S'
		case 'S':
			if resp.Severity == "" {
				resp.Severity = value
			}
		case 'C':
			resp.Code = value
		case 'M':
			resp.Message = value
		case 'D':
			resp.Detail = value
		}
	}
}
