package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/textline"
)

// Conn is one connection to a Server, as a Session sees it.
type Conn struct {
	srv          *Server
	ctx          context.Context
	cancel       context.CancelFunc
	mu           sync.Mutex // guards nc, idle, closed and aborting against Shutdown and Close
	nc           net.Conn
	idle         bool
	closed       bool
	aborting     bool // Server.Close: the next read fails, and the reply is 421
	tr           *textline.Reader
	bw           *bufio.Writer
	tlsOK        bool
	tlsSt        tls.ConnectionState
	helo         string
	ehlo         bool
	ident        string
	session      Session
	errors       int
	log          *slog.Logger // the Server's Logger with the connection's attributes
	authFailures int
	junk         int       // NOOP, RSET, VRFY, EXPN, HELP commands so far
	data         bool      // reading message data: renew the read deadline on each read
	dataEnd      time.Time // when the message transfer must be over (DataTimeout), or zero

	// Transaction state.
	from     *Mailbox
	mailOpts *MailOptions
	rcpts    []Mailbox
	bdat     bool // a BDAT sequence has started
	bdatFail bool // a BDAT failed: discard chunks until LAST or RSET

	pending *string // a command read while a BDAT sequence waited for a chunk
	quit    bool
}

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the address the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// TLS returns the TLS state of the connection, or nil when it has no TLS.
func (c *Conn) TLS() *tls.ConnectionState {
	if !c.tlsOK {
		return nil
	}
	return &c.tlsSt
}

// Hostname returns the name the client gave with EHLO, HELO or LHLO, ""
// before: a Domain or an address literal, as the server checked it (RFC
// 5321 §4.1.1.1), in ASCII, a name given with U-labels being converted to
// its A-labels (RFC 6531 §3.7.1), so that it can go into a Received field
// as it is.
func (c *Conn) Hostname() string { return c.helo }

// ReceivedProtocol returns the keyword that names the protocol in the "with"
// clause of a Received field: SMTP after HELO, ESMTP after EHLO, LMTP, with
// S when the connection has TLS and A when the client authenticated
// (RFC 3848), and a UTF8 prefix when the current transaction's MAIL had
// SMTPUTF8 (RFC 6531 §4.3). It is "" before the client's greeting.
func (c *Conn) ReceivedProtocol() string {
	switch {
	case c.helo == "":
		return ""
	case !c.ehlo:
		return "SMTP"
	}
	p := "ESMTP"
	switch utf8 := c.mailOpts != nil && c.mailOpts.UTF8; {
	case c.srv.LMTP && utf8:
		p = "UTF8LMTP"
	case c.srv.LMTP:
		p = "LMTP"
	case utf8:
		p = "UTF8SMTP"
	}
	if c.tlsOK {
		p += "S"
	}
	if c.ident != "" {
		p += "A"
	}
	return p
}

// Identity returns the identity the client authenticated as with AUTH, or "".
func (c *Conn) Identity() string { return c.ident }

// Server returns the Server the connection belongs to.
func (c *Conn) Server() *Server { return c.srv }

// Context returns a context that is canceled when the connection ends or the
// Server is closed, for the Session's own lookups and storage calls.
func (c *Conn) Context() context.Context { return c.ctx }

// connReader reads from the network, flushing pending replies first: this is
// how PIPELINING replies are batched (RFC 2920 §3.2): replies go out when the
// server has no more input to act on.
type connReader struct{ c *Conn }

func (r connReader) Read(p []byte) (int, error) {
	c := r.c
	if c.bw.Buffered() > 0 {
		if err := c.flush(); err != nil {
			return 0, err
		}
	}
	// Under mu, so that abort's deadline cannot be overwritten.
	c.mu.Lock()
	if c.aborting {
		c.mu.Unlock()
		return 0, errAborted
	}
	nc := c.nc
	if c.data {
		nc.SetReadDeadline(c.readDeadline())
	}
	c.mu.Unlock()
	return nc.Read(p)
}

// connWriter writes to the network with the write timeout; bufio.Writer calls
// it both on Flush and when its buffer fills.
type connWriter struct{ c *Conn }

func (w connWriter) Write(p []byte) (int, error) {
	w.c.nc.SetWriteDeadline(limits.Deadline(w.c.srv.limits().WriteTimeout))
	return w.c.nc.Write(p)
}

// readDeadline is the deadline for the next read: ReadTimeout from now, but
// no later than the end of the message transfer.
func (c *Conn) readDeadline() time.Time {
	d := limits.Deadline(c.srv.limits().ReadTimeout)
	if !c.dataEnd.IsZero() && (d.IsZero() || c.dataEnd.Before(d)) {
		d = c.dataEnd
	}
	return d
}

// startData starts the clock of DataTimeout for a message transfer.
func (c *Conn) startData() {
	if t := c.srv.limits().DataTimeout; t > 0 {
		c.dataEnd = time.Now().Add(t)
	}
}

func (s *Server) newConn(nc net.Conn) *Conn {
	c := &Conn{srv: s, nc: nc}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.bw = bufio.NewWriterSize(connWriter{c}, 4096)
	c.tr = textline.NewReader(connReader{c}, s.limits().MaxLineLength)
	return c
}

func (c *Conn) flush() error { return c.bw.Flush() }

// errAborted is the error of a read after Server.Close.
var errAborted = errors.New("smtp: server closed")

// abortGrace bounds how long a connection ended by Server.Close stays open
// for its goroutine to send 421.
const abortGrace = time.Second

// abort ends the connection for Server.Close: the read in progress, or the
// next one, fails, and the connection's own goroutine answers 421 and
// closes; only it may write, as a reply may be half written. A goroutine
// that does not read again within abortGrace is cut off.
func (c *Conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.aborting {
		return
	}
	c.aborting = true
	c.nc.SetReadDeadline(time.Now())
	c.cancel()
	time.AfterFunc(abortGrace, c.closeNet)
}

// closeNet closes the network connection.
func (c *Conn) closeNet() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.nc.Close()
	c.cancel()
}

// interruptIfIdle wakes a connection waiting for a command outside a
// transaction, so that it answers 421 (Server.Shutdown).
func (c *Conn) interruptIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle {
		c.nc.SetReadDeadline(time.Now())
	}
}
