package netutil

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// Bounds of CloseLinger: how long it waits for the client to close its side,
// and how much of the client's input it reads and discards meanwhile.
const (
	LingerTimeout = 500 * time.Millisecond
	LingerBytes   = 256 << 10
)

// CloseLinger closes a connection after the server's last reply (a 421, an
// -ERR) so that the reply reaches a client that is still sending. Closing a
// TCP socket with unread input makes the kernel send a reset, which discards
// whatever the client has not read yet, the reply included, and also any
// part of the reply still queued to be sent. So CloseLinger shuts the write
// side first (with a TLS close_notify on a *tls.Conn, then a TCP FIN), then
// reads and discards the client's input until the client closes its side,
// LingerTimeout passes or LingerBytes have been read, and only then closes.
// A connection that cannot half-close is closed at once.
//
// Another goroutine's Close of nc ends the wait early.
func CloseLinger(nc net.Conn) error {
	return closeLinger(nc, LingerTimeout, LingerBytes)
}

func closeLinger(nc net.Conn, timeout time.Duration, maxBytes int64) error {
	raw := nc
	if tc, ok := nc.(*tls.Conn); ok {
		// Sends close_notify once the handshake is done (with its own
		// write deadline); the TCP connection stays open. The rest of the
		// input is drained below TLS, undecrypted.
		tc.CloseWrite()
		raw = tc.NetConn()
	}
	if cw, ok := raw.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		raw.SetReadDeadline(time.Now().Add(timeout))
		io.CopyN(io.Discard, raw, maxBytes)
	}
	return nc.Close()
}
