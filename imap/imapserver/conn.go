package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/netutil"
)

// Connection states of RFC 3501 §3.
type state int

const (
	stateNotAuthenticated state = iota
	stateAuthenticated
	stateSelected
	stateLogout
)

// Conn is one connection to a Server, as a Session sees it.
type Conn struct {
	srv     *Server
	log     *slog.Logger
	session Session

	mu      sync.Mutex // guards nc, waiting and ending against Shutdown's kick
	nc      net.Conn
	waiting bool // waiting for a command or in IDLE: Shutdown may end it
	ending  bool

	dw  deadlineWriter
	br  *bufio.Reader
	bw  *bufio.Writer
	dec *imapwire.Decoder
	enc *imapwire.Encoder

	ctx    context.Context
	cancel context.CancelFunc
	tls    *tls.ConnectionState

	state     state
	ident     string
	errors    int
	authFails int

	sel *selected // the selected mailbox, in stateSelected
}

// deadlineWriter sets a fresh write deadline before each write.
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.nc.SetWriteDeadline(limits.Deadline(d.timeout))
	return d.nc.Write(p)
}

func (s *Server) newConn(nc net.Conn) *Conn {
	c := &Conn{srv: s, nc: nc}
	c.log = s.logger()
	c.dw = deadlineWriter{nc: nc, timeout: s.limits().WriteTimeout}
	c.bw = bufio.NewWriterSize(&c.dw, 32*1024)
	c.enc = imapwire.NewEncoder(c.bw)
	c.setReader(nc)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// setReader starts reading commands from r, dropping anything buffered.
func (c *Conn) setReader(r net.Conn) {
	c.br = bufio.NewReaderSize(r, 16*1024)
	c.dec = imapwire.NewDecoder(c.br, c.srv.limits().Wire)
	c.dec.OnSyncLiteral = c.continueLiteral
}

// kick makes a connection waiting for a command give up (Shutdown).
func (c *Conn) kick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting && !c.ending {
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
// client still sending reads it rather than a reset.
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
