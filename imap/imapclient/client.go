package imapclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// DefaultTimeout bounds each wait of a Client for the server (a response,
// a continuation request, room to write) in calls whose context has no
// deadline.
const DefaultTimeout = 5 * time.Minute

var (
	// ErrInsecureAuth is returned by Login and Authenticate on a
	// connection without TLS when Options.AllowInsecureAuth is not set.
	ErrInsecureAuth = errors.New("imapclient: refusing to authenticate on a connection without TLS (see Options.AllowInsecureAuth)")

	// ErrTimeout is wrapped by the error of a call that waited longer than
	// Options.Timeout, or past its context's deadline, for the server. The
	// connection is closed then: the server is out of step with it.
	ErrTimeout = errors.New("imapclient: timed out waiting for the server")

	// ErrProtocol is wrapped by errors about server responses that break
	// the protocol: a malformed response (errors.As finds the
	// *imapwire.ParseError too), an unexpected continuation request, data
	// after the response to STARTTLS.
	ErrProtocol = errors.New("imapclient: protocol error")

	// ErrClosed is returned by calls on a Client after Close.
	ErrClosed = errors.New("imapclient: client closed")

	// ErrUnsupported is wrapped by the error of a call that needs a
	// capability the server did not announce.
	ErrUnsupported = errors.New("imapclient: not supported by the server")
)

// Options configures a Client. A nil *Options and the zero value both mean
// the defaults.
type Options struct {
	// TLSConfig is used by DialTLS, DialStartTLS and StartTLS with a nil
	// config. When it is nil, or its ServerName is empty, the server name
	// is the host part of the dialled address. A MinVersion below TLS 1.2
	// becomes TLS 1.2.
	TLSConfig *tls.Config

	// AllowInsecureAuth lets Login and Authenticate run on a connection
	// without TLS. By default they refuse to, with ErrInsecureAuth, so
	// that no credential crosses the network in the clear.
	AllowInsecureAuth bool

	// Timeout bounds each wait for the server in calls whose context has
	// no deadline (a context deadline replaces it): a call fails with
	// ErrTimeout, and the connection is closed, when the server sends
	// nothing for that long while the call waits for it. IDLE's wait for
	// mailbox changes is not bounded. Zero means DefaultTimeout, negative
	// no bound.
	Timeout time.Duration

	// Handler receives the responses the server sends on its own
	// (RFC 3501 §7: mailbox size changes, expunges, flag changes,
	// alerts, BYE). Nil drops them.
	Handler *Handler

	// Limits bound what is read from the server; the zero value gives
	// imapwire's defaults (a 64 KiB line, a 64 MiB body section...).
	Limits imapwire.Limits

	// DialContext, when set, opens the connections of Dial, DialTLS and
	// DialStartTLS instead of a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger receives debug records of responses that were skipped
	// (malformed, or with an unknown tag). Nil is silent.
	Logger *slog.Logger
}

// Handler holds the callbacks for the responses that no command asked for
// (RFC 3501 §7, §5.2): a server sends them during any command, or during
// IDLE. Each field may be nil. The callbacks run on the Client's reading
// goroutine, one at a time and in the order of the responses: they must
// return promptly and must not wait for the Client's calls (a call made
// from a callback waits for responses that the callback holds up).
type Handler struct {
	// Exists reports the number of messages in the selected mailbox
	// (EXISTS, RFC 3501 §7.3.1), also those sent during SELECT.
	Exists func(n uint32)
	// Expunge reports that the message with this sequence number was
	// expunged (RFC 3501 §7.4.1); later numbers shift down by one. It is
	// called also for the expunges that EXPUNGE, UID EXPUNGE and MOVE
	// cause, whose results list them too.
	Expunge func(seq uint32)
	// Vanished reports UIDs expunged, after ENABLE QRESYNC (RFC 7162
	// §3.2.10), in place of Expunge.
	Vanished func(v *imapwire.VanishedData)
	// Fetch reports a FETCH response outside FETCH and STORE: a change of
	// a message's flags made by another session (RFC 3501 §7.4.2).
	Fetch func(f *imapwire.FetchData)
	// Alert reports the text of a response with the ALERT code, which
	// RFC 3501 §7.1 says must be shown to the user.
	Alert func(text string)
	// Bye reports the server's BYE (RFC 3501 §7.1.5): the connection is
	// about to close.
	Bye func(r *imap.StatusResponse)
	// Other receives every other response no command took: untagged
	// status responses, FLAGS, RECENT, and responses of extensions this
	// package does not know (as *imapwire.UnknownData).
	Other func(resp any)
}

// Client is an IMAP4rev1 client connection (RFC 3501).
//
// It is safe for concurrent use. Commands issued from several goroutines
// are pipelined: sent without waiting for the previous ones to complete,
// their responses matched by tag. A command is held back while one in
// flight makes it ambiguous (RFC 3501 §5.5): a command that uses message
// sequence numbers waits for every command during which the server may
// expunge messages, and the other way round; commands that change the
// connection's state (SELECT, LOGIN, STARTTLS, IDLE...) run alone; and
// commands whose untagged responses cannot be told apart (two FETCHes,
// two LISTs) run one after the other.
//
// Every call takes a context. Its deadline, or Options.Timeout when it
// has none, bounds each wait for the server; running out closes the
// connection (ErrTimeout). Cancelling the context of a call that waits for
// its command's completion abandons the command: the call returns, the
// command's responses are read and dropped when they come, and the
// command may still take effect on the server. A cancellation while a
// command is being sent closes the connection, as the server is then
// waiting for the rest of it.
type Client struct {
	opts    Options
	timeout time.Duration
	handler Handler
	logger  *slog.Logger
	addr    string

	// mu guards the fields below it.
	mu      sync.Mutex
	conn    net.Conn
	isTLS   bool
	caps    imap.Capabilities
	enabled imap.Capabilities
	utf8    bool
	pending []*command // in flight, in the order sent
	queue   []*command // waiting to be sent, in order of arrival
	changed chan struct{}
	tagNum  uint64
	bye     *imap.StatusResponse
	// loggingOut is set by Logout: the end of the connection is expected.
	loggingOut bool
	err        error
	closed     chan struct{}
	failOnce   sync.Once

	// The write deadline of the command being written: renewed before
	// each write when wtimeout is set, unless the call was cancelled.
	wtimeout   time.Duration
	wcancelled bool

	// wmu serialises writers; the fields below are used under it.
	wmu     sync.Mutex
	bw      *bufio.Writer
	written int64 // bytes handed to the connection

	// Read side: used by the reading goroutine only (and by NewClient
	// and StartTLS while it is not running).
	br      *bufio.Reader
	dec     *imapwire.Decoder
	ropts   imapwire.ResponseOptions
	cur     *command // the command a FETCH section belongs to
	readerr chan struct{}
	// contCh holds a continuation request for the command being written.
	contCh chan *imapwire.Continuation

	lastRead atomic.Int64 // unix nanoseconds of the last read from the server

	greeting *imap.StatusResponse

	// testHookWait, set by tests before use, is called when a command
	// has to wait before it is sent.
	testHookWait func(name string)
}

// Dial connects to an IMAP server at addr (host:port) in cleartext
// (port 143) and reads its greeting. Use StartTLS, or DialStartTLS,
// to protect the connection.
func Dial(ctx context.Context, addr string, o *Options) (*Client, error) {
	nc, err := dial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	c, err := newClient(ctx, nc, o, addr)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// DialTLS connects to an IMAP server over implicit TLS (port 993, RFC
// 8314 §3.3) and reads its greeting.
func DialTLS(ctx context.Context, addr string, o *Options) (*Client, error) {
	nc, err := dial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	var cfg *tls.Config
	if o != nil {
		cfg = o.TLSConfig
	}
	tc := tls.Client(nc, clientTLS(cfg, addr))
	if err := handshake(ctx, tc, o); err != nil {
		nc.Close()
		return nil, err
	}
	c, err := newClient(ctx, tc, o, addr)
	if err != nil {
		tc.Close()
		return nil, err
	}
	return c, nil
}

// DialStartTLS connects like Dial, then upgrades the connection with
// STARTTLS (RFC 3501 §6.2.1). It fails when the server does not offer
// STARTTLS: the caller asked for TLS, so none is not an option.
func DialStartTLS(ctx context.Context, addr string, o *Options) (*Client, error) {
	c, err := Dial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	if err := c.StartTLS(ctx, nil); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// NewClient reads the greeting from a connection that is already open and
// returns a Client using it. A *tls.Conn counts as a secure connection.
func NewClient(ctx context.Context, conn net.Conn, o *Options) (*Client, error) {
	return newClient(ctx, conn, o, "")
}

func dial(ctx context.Context, addr string, o *Options) (net.Conn, error) {
	if o != nil && o.DialContext != nil {
		return o.DialContext(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func handshake(ctx context.Context, tc *tls.Conn, o *Options) error {
	if _, ok := ctx.Deadline(); !ok {
		if t := timeoutOf(o); t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
	}
	return tc.HandshakeContext(ctx)
}

func timeoutOf(o *Options) time.Duration {
	if o == nil || o.Timeout == 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func clientTLS(config *tls.Config, addr string) *tls.Config {
	if config == nil {
		config = &tls.Config{}
	} else {
		config = config.Clone()
	}
	if config.ServerName == "" && addr != "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			config.ServerName = host
		}
	}
	if config.MinVersion < tls.VersionTLS12 {
		config.MinVersion = tls.VersionTLS12
	}
	return config
}

func newClient(ctx context.Context, nc net.Conn, o *Options, addr string) (*Client, error) {
	c := &Client{
		conn:    nc,
		addr:    addr,
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
		readerr: make(chan struct{}),
		contCh:  make(chan *imapwire.Continuation, 1),
		enabled: imap.NewCapabilities(),
	}
	if o != nil {
		c.opts = *o
	}
	c.timeout = timeoutOf(o)
	if c.opts.Handler != nil {
		c.handler = *c.opts.Handler
	}
	c.logger = c.opts.Logger
	_, c.isTLS = nc.(*tls.Conn)
	c.br = bufio.NewReaderSize(connReader{c}, 16<<10)
	c.bw = bufio.NewWriterSize(connWriter{c}, 16<<10)
	c.dec = imapwire.NewDecoder(c.br, c.opts.Limits)
	c.ropts.FetchSection = c.fetchSection

	// The greeting is read before the reading goroutine starts, under the
	// call's deadline (RFC 3501 §7.1: OK, PREAUTH or BYE).
	if err := c.readGreeting(ctx); err != nil {
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) readGreeting(ctx context.Context) error {
	nc := c.conn
	if dl, ok := ctx.Deadline(); ok {
		nc.SetReadDeadline(dl)
	} else if c.timeout > 0 {
		nc.SetReadDeadline(time.Now().Add(c.timeout))
	}
	stop := context.AfterFunc(ctx, func() { nc.SetReadDeadline(time.Unix(1, 0)) })
	resp, err := imapwire.ReadResponse(c.dec, nil)
	stop()
	nc.SetReadDeadline(time.Time{})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("%w: greeting: %w", ErrTimeout, err)
		}
		return c.readError(err)
	}
	st, ok := resp.(*imap.StatusResponse)
	if !ok || st.Tag != "" {
		return fmt.Errorf("%w: greeting is not a status response", ErrProtocol)
	}
	switch st.Type {
	case imap.StatusOK, imap.StatusPREAUTH:
	case imap.StatusBYE:
		return st.Err()
	default:
		return fmt.Errorf("%w: greeting %s", ErrProtocol, st.Type)
	}
	c.greeting = st
	if st.Code.Is(imap.CodeCapability) {
		c.caps = st.Code.Caps
	}
	return nil
}

// readError classifies an error of ReadResponse.
func (c *Client) readError(err error) error {
	var pe *imapwire.ParseError
	var se *imap.SyntaxError
	if errors.As(err, &pe) || errors.As(err, &se) || errors.Is(err, imapwire.ErrLimit) {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("imapclient: connection closed by the server: %w", io.ErrUnexpectedEOF)
	}
	return err
}

// Greeting returns the server's greeting: an OK, or a PREAUTH when the
// connection is already authenticated (RFC 3501 §7.1.4).
func (c *Client) Greeting() *imap.StatusResponse { return c.greeting }

// Conn returns the underlying connection (a *tls.Conn after StartTLS).
func (c *Client) Conn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// TLSConnectionState returns the state of the TLS connection, and false
// when the connection has no TLS.
func (c *Client) TLSConnectionState() (tls.ConnectionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc := tlsOf(c.conn); tc != nil {
		return tc.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// Caps returns the capabilities the server last announced (in its
// greeting, a CAPABILITY response or a response code), or nil when they
// are not known, as after LOGIN or STARTTLS without a CAPABILITY response
// code. Capability asks the server.
func (c *Client) Caps() imap.Capabilities {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.caps == nil {
		return nil
	}
	out := make(imap.Capabilities, len(c.caps))
	for k, v := range c.caps {
		out[k] = v
	}
	return out
}

// caps returns the known capabilities, asking the server when they are
// not known.
func (c *Client) capsOf(ctx context.Context) (imap.Capabilities, error) {
	c.mu.Lock()
	caps := c.caps
	c.mu.Unlock()
	if caps != nil {
		return caps, nil
	}
	return c.Capability(ctx)
}

// has reports whether the server announced cap, asking for the
// capabilities when they are not known.
func (c *Client) has(ctx context.Context, cp imap.Capability) (bool, error) {
	caps, err := c.capsOf(ctx)
	if err != nil {
		return false, err
	}
	return caps.Has(cp), nil
}

// Enabled reports whether ENABLE turned on the extension (RFC 5161).
func (c *Client) Enabled(cp imap.Capability) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.enabled.Has(cp)
}

// Close closes the connection without LOGOUT. Calls in progress return
// ErrClosed.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	return nil
}

// Done returns a channel closed when the connection has ended (Close, a
// network error, the server's BYE); Err then says why.
func (c *Client) Done() <-chan struct{} { return c.closed }

// Err returns the error that ended the connection, or nil while it is up.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// fail ends the connection with err (the first error wins).
func (c *Client) fail(err error) {
	c.failOnce.Do(func() {
		c.mu.Lock()
		switch {
		case c.loggingOut:
			err = ErrClosed
		case c.bye != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrTimeout):
			err = c.bye.Err()
		}
		c.err = err
		conn := c.conn
		c.broadcast()
		c.mu.Unlock()
		conn.Close()
		close(c.closed)
	})
}

// connReader reads from the current connection, recording the time of
// each read for the Timeout of waiting calls.
type connReader struct{ c *Client }

func (r connReader) Read(p []byte) (int, error) {
	r.c.mu.Lock()
	nc := r.c.conn
	r.c.mu.Unlock()
	n, err := nc.Read(p)
	if n > 0 {
		r.c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// connWriter writes to the current connection, counting the bytes.
type connWriter struct{ c *Client }

func (w connWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	nc := w.c.conn
	if w.c.wtimeout > 0 && !w.c.wcancelled {
		nc.SetWriteDeadline(time.Now().Add(w.c.wtimeout))
	}
	w.c.mu.Unlock()
	n, err := nc.Write(p)
	w.c.written += int64(n)
	return n, err
}
