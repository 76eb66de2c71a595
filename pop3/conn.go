package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/textline"
)

// Session states of RFC 1939 §3.
const (
	stateAuthorization = iota
	stateTransaction
)

// Conn is one connection to a Server, as a Session sees it.
type Conn struct {
	srv     *Server
	log     *slog.Logger
	session Session

	mu     sync.Mutex // guards nc and ending against Shutdown's kick
	nc     net.Conn
	ending bool // after the last response: no kick may cut closeLinger short

	dw deadlineWriter
	r  *textline.Reader
	w  *bufio.Writer

	ctx    context.Context
	cancel context.CancelFunc
	tls    *tls.ConnectionState

	state     int
	user      string // from USER, waiting for PASS
	ident     string // the authenticated identity
	timestamp string // APOP timestamp from the greeting, "" without APOP
	errors    int
	authFails int

	drop    Maildrop
	msgs    []Message
	deleted []bool
	ndel    int
	delSize int64
	total   int64
}

// deadlineWriter sets a fresh write deadline before each write, so that a
// long RETR to a slow but live client is not cut off.
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.nc.SetWriteDeadline(limits.Deadline(d.timeout))
	return d.nc.Write(p)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

func (s *Server) newConn(nc net.Conn) *Conn {
	c := &Conn{srv: s, nc: nc}
	c.log = s.logger()
	c.dw = deadlineWriter{nc: nc, timeout: s.limits().WriteTimeout}
	c.r = textline.NewReader(nc, MaxCommandLine-2)
	c.w = bufio.NewWriterSize(&c.dw, 32*1024)
	// Session calls get a context that ends with the connection.
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// kick makes a connection waiting for a command give up (Shutdown).
func (c *Conn) kick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ending {
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *Conn) closeNow() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nc.Close()
}

// closeLinger closes the connection after the last response so that a
// client still sending reads it rather than a reset; closeNow (Server.Close)
// cuts it short.
func (c *Conn) closeLinger() {
	c.cancel()
	c.mu.Lock()
	c.ending = true
	nc := c.nc
	c.mu.Unlock()
	netutil.CloseLinger(nc)
}

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr returns the address the client connected to.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// TLS returns the TLS state of the connection, or nil when it has no TLS.
func (c *Conn) TLS() *tls.ConnectionState { return c.tls }

// Identity returns the user the client authenticated as, or "" before.
func (c *Conn) Identity() string { return c.ident }

// Server returns the Server the connection belongs to.
func (c *Conn) Server() *Server { return c.srv }

// Context returns a context that is cancelled when the connection ends or
// the Server is closed, for the Session's own lookups and storage calls.
func (c *Conn) Context() context.Context { return c.ctx }
