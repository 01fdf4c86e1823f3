package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// sslRequestCode is the SSLRequest's "protocol version" (1234.5679).
const sslRequestCode = 80877103

// Knock connects to address, sends an SSLRequest and reads the one-byte
// answer ('N' or 'S'), then closes. The answer comes from a backend the
// postmaster forked for the connection, before any authentication, so it
// proves that PostgreSQL accepts and serves connections on that address
// without a startup packet: no pg_hba.conf rule is consulted, no peer or
// password authentication runs and the server logs nothing (PostgreSQL
// treats a client that leaves after the SSL answer like one that never
// spoke). Use it on unix sockets, where the answer is always 'N': over TCP
// a server with ssl=on answers 'S' and logs the TLS handshake that never
// comes. It cannot tell a server
// that accepts logins from one that answers 57P03 (starting up, shutting
// down, in recovery): postmaster.pid's status line tells that.
func Knock(ctx context.Context, network, address string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, address)
	if err != nil {
		return fmt.Errorf("connect: %w", timedOut(ctx, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("set deadline: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := knock(conn); err != nil {
		return timedOut(ctx, err)
	}
	return nil
}

func knock(rw io.ReadWriter) error {
	var req [8]byte
	binary.BigEndian.PutUint32(req[:4], 8)
	binary.BigEndian.PutUint32(req[4:], sslRequestCode)
	if _, err := rw.Write(req[:]); err != nil {
		return fmt.Errorf("send SSLRequest: %w", err)
	}
	r := bufio.NewReaderSize(rw, 64)
	c, err := r.ReadByte()
	if err != nil {
		return fmt.Errorf("read SSLRequest answer: %w", err)
	}
	switch c {
	case 'N', 'S':
		return nil
	case 'E':
		// The postmaster itself answers with a pre-3.0 error text when it
		// cannot fork a backend.
		var start [4]byte
		n, _ := io.ReadFull(r, start[:])
		return fmt.Errorf("server error without SQLSTATE: %s", preV3Error(start[:n], r))
	default:
		return fmt.Errorf("unexpected answer %q to SSLRequest: not a PostgreSQL server?", c)
	}
}
