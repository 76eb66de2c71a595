package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/textline"
)

// Client defaults.
const (
	// DefaultChunkSize is the size of the BDAT chunks a Client sends when the
	// caller does not choose one (RFC 3030).
	DefaultChunkSize = 256 << 10
	// MaxAuthLineLength bounds the lines of server challenges during AUTH.
	// RFC 4954 §4 calls 12288 octets sufficient for deployed mechanisms.
	MaxAuthLineLength = 12288 + 8
	// DefaultClientTimeout bounds each wait of a Client for the server when
	// the call's context has no deadline: RFC 5321 §4.5.3.2 suggests client
	// timeouts of 2 to 10 minutes depending on the command.
	DefaultClientTimeout = 5 * time.Minute
	// clientMaxCommandLine: RFC 5321 §4.5.3.1.4, 512 octets including CRLF.
	clientMaxCommandLine = 512
	// clientMaxPendingChunks bounds the BDAT replies a Client leaves unread
	// while it keeps sending chunks, so that a server's unread replies can
	// never fill the connection both ways (RFC 2920 §3.1, deadlock).
	clientMaxPendingChunks = 8
)

// ClientOptions configures a Client. A nil *ClientOptions and the zero value
// both mean the defaults.
type ClientOptions struct {
	// LocalName is the host name sent with EHLO, HELO or LHLO: a domain or an
	// address literal such as "[192.0.2.1]" (RFC 5321 §4.1.1.1). Default
	// "localhost".
	LocalName string

	// TLSConfig is used by DialTLS, DialStartTLS, StartTLS and SendMail. When
	// it is nil, or its ServerName is empty, the server name is the host part
	// of the dialled address. A zero MinVersion becomes TLS 1.2.
	TLSConfig *tls.Config

	// LMTP makes the client speak LMTP (RFC 2033): LHLO instead of EHLO, and
	// one reply per accepted recipient after the message data.
	LMTP bool

	// AllowInsecureAuth lets Auth run on a connection without TLS. By
	// default Auth refuses to, so that no credential crosses the network in
	// the clear.
	AllowInsecureAuth bool

	// NoPipelining and NoChunking stop the client from using PIPELINING
	// (RFC 2920) and CHUNKING (RFC 3030) even when the server offers them.
	NoPipelining bool
	NoChunking   bool

	// ChunkSize is the largest BDAT chunk sent. Default DefaultChunkSize.
	ChunkSize int

	// Downgrade, when set, lets Send convert a message to 7 bits when its
	// MailOptions.Body says 8BITMIME or BINARYMIME and the server cannot
	// take that (RFC 6152 §3, RFC 5321 §2.4): Send then streams the message
	// through Downgrade, which writes to dst the message read from src,
	// and sends the result as BODY=7BIT, without a SIZE declaration. Set
	// it to mime.To7bit (the smtp package does not import mime itself).
	// A message Downgrade fails on (mime.To7bit's for 8-bit text in an
	// address, which needs SMTPUTF8) fails Send after MAIL and RCPT and is
	// not delivered. When Downgrade is nil, Send fails before MAIL with an
	// *UnsupportedError instead.
	Downgrade func(dst io.Writer, src io.Reader) error

	// Timeout bounds each wait for the server (for a reply, or for room to
	// write) in calls whose context has no deadline; a context deadline
	// replaces it. Default DefaultClientTimeout; negative means none.
	Timeout time.Duration

	// MaxReplyLineLength bounds the length of a reply line. Default
	// DefaultReplyLineLength. Replies also have at most MaxReplyLines lines.
	MaxReplyLineLength int

	// Network is the network Dial, DialTLS and DialStartTLS connect on:
	// "tcp" (the default), "tcp4", "tcp6", or "unix", where the address is
	// a socket path, as for the LMTP sockets of Dovecot or Postfix.
	Network string

	// DialContext, when set, opens the connections of Dial, DialTLS,
	// DialStartTLS and SendMail instead of a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client is an SMTP or LMTP client connection (RFC 5321, RFC 2033).
//
// Every network call takes a context: its deadline becomes the connection's
// deadline and its cancellation interrupts the call. A call interrupted that
// way, or failing on the network, leaves the Client unusable: later calls
// return the same error and only Close remains useful.
//
// A Client is not safe for concurrent use.
type Client struct {
	conn       net.Conn
	r          *textline.Reader
	w          *bufio.Writer
	opts       ClientOptions
	serverName string
	tls        bool
	greeting   *Reply
	hello      *Reply
	ext        map[string]string
	mechs      []string
	authed     bool
	err        error // sticky: the connection is unusable
	line       []byte
	chunkBuf   []byte           // BDAT chunk buffer, reused
	deadline   netutil.Deadline // each call's context on conn

	// Transaction state for Mail, Rcpt and Data.
	inMail   bool
	mailUTF8 bool
	mailBody BodyType
	rcpts    []Mailbox // accepted recipients, for LMTP's replies after the data
}

// Dial connects to addr ("host:port") over TCP, reads the greeting and
// introduces itself with EHLO (LHLO for LMTP), falling back to HELO when the
// server does not know EHLO. It does not start TLS; see DialStartTLS.
func Dial(ctx context.Context, addr string, o *ClientOptions) (*Client, error) {
	conn, host, err := clientDial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	c, err := startClient(ctx, conn, host, o, false)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// DialTLS connects to addr with implicit TLS, as on the submissions port 465
// (RFC 8314 §3.3), then reads the greeting and sends EHLO.
func DialTLS(ctx context.Context, addr string, o *ClientOptions) (*Client, error) {
	conn, host, err := clientDial(ctx, addr, o)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, clientTLSConfig(o, host))
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("smtp: TLS handshake with %s: %w", addr, err)
	}
	c, err := startClient(ctx, tc, host, o, true)
	if err != nil {
		tc.Close()
		return nil, err
	}
	return c, nil
}

// DialStartTLS connects to addr like Dial, then upgrades the connection with
// STARTTLS (RFC 3207) and sends EHLO again. It fails when the server does not
// offer STARTTLS: the caller asked for TLS, so none is not an option.
func DialStartTLS(ctx context.Context, addr string, o *ClientOptions) (*Client, error) {
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

// NewClient runs the client side of SMTP over conn, which may already be a
// *tls.Conn: it reads the greeting and sends EHLO (LHLO for LMTP). For
// StartTLS over a Client made this way, set o.TLSConfig.ServerName.
func NewClient(ctx context.Context, conn net.Conn, o *ClientOptions) (*Client, error) {
	_, isTLS := conn.(*tls.Conn)
	return startClient(ctx, conn, "", o, isTLS)
}

func clientDial(ctx context.Context, addr string, o *ClientOptions) (net.Conn, string, error) {
	network := "tcp"
	if o != nil && o.Network != "" {
		network = o.Network
	}
	var host string
	var err error
	if network != "unix" {
		if host, _, err = net.SplitHostPort(addr); err != nil {
			return nil, "", fmt.Errorf("smtp: %w", err)
		}
	}
	var conn net.Conn
	if o != nil && o.DialContext != nil {
		conn, err = o.DialContext(ctx, network, addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, "", fmt.Errorf("smtp: %w", err)
	}
	return conn, host, nil
}

func clientTLSConfig(o *ClientOptions, host string) *tls.Config {
	var cfg *tls.Config
	if o != nil && o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func startClient(ctx context.Context, conn net.Conn, host string, o *ClientOptions, isTLS bool) (*Client, error) {
	c := &Client{conn: conn, serverName: host, tls: isTLS}
	if o != nil {
		c.opts = *o
	}
	if c.opts.LocalName == "" {
		c.opts.LocalName = "localhost"
	}
	if err := checkDomainOrLiteral(c.opts.LocalName, false); err != nil {
		return nil, fmt.Errorf("smtp: bad LocalName: %w", err)
	}
	if c.opts.ChunkSize <= 0 {
		c.opts.ChunkSize = DefaultChunkSize
	}
	// A chunk must hold at least a CR LF.
	c.opts.ChunkSize = max(c.opts.ChunkSize, 2)
	if c.opts.MaxReplyLineLength <= 0 {
		c.opts.MaxReplyLineLength = DefaultReplyLineLength
	}
	if c.opts.Timeout == 0 {
		c.opts.Timeout = DefaultClientTimeout
	}
	c.r = textline.NewReader(timeoutIO{c}, c.opts.MaxReplyLineLength)
	c.w = bufio.NewWriterSize(timeoutIO{c}, 4096)

	done := c.arm(ctx)
	defer done()
	// RFC 5321 §3.1: the server greets with 220, or 554 when it will not
	// serve the client (after which only QUIT is allowed).
	rep, err := c.readReply(ctx)
	if err != nil {
		return nil, err
	}
	c.greeting = rep
	if rep.Code != 220 {
		if rep.Code == 554 {
			c.quitQuietly()
		}
		return nil, clientReplyError(rep)
	}
	if err := c.sayHello(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// arm applies ctx to the connection for the duration of one call: its
// deadline, or Timeout for each read and write when it has none, and its
// cancellation, which interrupts blocked I/O. The returned func disarms it.
func (c *Client) arm(ctx context.Context) func() {
	return c.deadline.Watch(ctx, c.conn, c.opts.Timeout)
}

// refresh moves the deadline Timeout ahead before an I/O in a call without
// a context deadline, unless the call was cancelled.
func (c *Client) refresh() { c.deadline.Refresh() }

// timeoutIO reads and writes the Client's current connection, with
// per-I/O deadlines.
type timeoutIO struct{ c *Client }

func (t timeoutIO) Read(p []byte) (int, error) {
	t.c.refresh()
	return t.c.conn.Read(p)
}

func (t timeoutIO) Write(p []byte) (int, error) {
	t.c.refresh()
	return t.c.conn.Write(p)
}

// fail records a connection-level error: the Client is unusable from now on.
func (c *Client) fail(ctx context.Context, err error) error {
	var ne net.Error
	if ctx != nil && ctx.Err() != nil {
		err = fmt.Errorf("smtp: %w (%v)", ctx.Err(), err)
	} else if d, ok := clientCtxDeadline(ctx); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(d) {
		// The connection's deadline, which is ctx's, fired a moment
		// before ctx noticed.
		err = fmt.Errorf("smtp: %w (%v)", context.DeadlineExceeded, err)
	} else if _, ok := err.(*Error); !ok && !strings.HasPrefix(err.Error(), "smtp: ") {
		err = fmt.Errorf("smtp: %w", err)
	}
	if c.err == nil {
		c.err = err
	}
	return err
}

func clientCtxDeadline(ctx context.Context) (time.Time, bool) {
	if ctx == nil {
		return time.Time{}, false
	}
	return ctx.Deadline()
}

// readReply reads one reply. A 421 reply means the server is closing the
// connection (RFC 5321 §3.8): it is returned, and remembered for later calls.
func (c *Client) readReply(ctx context.Context) (*Reply, error) {
	if c.err != nil {
		// After a 421 nothing more comes: report it, not the EOF.
		return nil, c.err
	}
	rep, err := readReply(c.r)
	if err != nil {
		return nil, c.fail(ctx, err)
	}
	if rep.Code == 421 {
		c.fail(ctx, rep.Err())
	}
	return rep, nil
}

// flush writes the buffered commands.
func (c *Client) flush(ctx context.Context) error {
	if err := c.w.Flush(); err != nil {
		return c.writeFailed(ctx, err)
	}
	return nil
}

// maxRepliesAfterWriteError bounds the replies writeFailed reads: those of
// pipelined commands or chunks, then the one that explains the close.
const maxRepliesAfterWriteError = 16

// writeFailed records an error writing to the server. A server that ends a
// transaction early (421 when it times out or shuts down, 552 for a message
// too large) may reply and close while the client is still sending. When
// the write failed because the server closed the connection, its reply is
// the better error; reading it cannot block, as the connection is gone.
func (c *Client) writeFailed(ctx context.Context, err error) error {
	if c.err == nil && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		for range maxRepliesAfterWriteError {
			rep, rerr := readReply(c.r)
			if rerr != nil {
				break
			}
			if rep.Code >= 400 {
				return c.fail(ctx, clientReplyError(rep))
			}
		}
	}
	return c.fail(ctx, err)
}

// writeLine buffers one command line, refusing any CR, LF or NUL in it so that
// no argument can inject a command.
func (c *Client) writeLine(line []byte) error {
	for _, b := range line {
		if b == '\r' || b == '\n' || b == 0 {
			return fmt.Errorf("smtp: control character in command %q", truncate(line, 40))
		}
	}
	c.w.Write(line)
	c.w.WriteString("\r\n")
	c.line = line[:0] // reuse the buffer
	return nil
}

// cmd sends one command and reads its reply.
func (c *Client) cmd(ctx context.Context, line []byte) (*Reply, error) {
	if err := c.writeLine(line); err != nil {
		return nil, err
	}
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.readReply(ctx)
}

// simple runs a command that must get a reply of the class of want.
func (c *Client) simple(ctx context.Context, want int, cmd string) (*Reply, error) {
	if c.err != nil {
		return nil, c.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := c.arm(ctx)
	defer done()
	rep, err := c.cmd(ctx, append(c.line[:0], cmd...))
	if err != nil {
		return nil, err
	}
	if rep.Code/100 != want/100 {
		return rep, clientReplyError(rep)
	}
	return rep, nil
}

// clientReplyError turns a reply the client did not want into an error: an
// *Error with the server's code and text. A success reply where an error was due, or
// the reverse, is still reported as an *Error with the code received, so that
// callers always find the server's words with errors.As.
func clientReplyError(rep *Reply) error {
	return &Error{Code: rep.Code, EnhancedCode: rep.EnhancedCode, Message: rep.Message()}
}

// sayHello sends EHLO (or LHLO) and records the extensions; it falls back to
// HELO when the server does not recognise EHLO (RFC 5321 §3.2).
func (c *Client) sayHello(ctx context.Context) error {
	verb := "EHLO "
	if c.opts.LMTP {
		verb = "LHLO "
	}
	rep, err := c.cmd(ctx, append(append(c.line[:0], verb...), c.opts.LocalName...))
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	c.mechs = nil
	if rep.Code == 250 {
		c.hello = rep
		c.parseExtensions(rep)
		return nil
	}
	// RFC 5321 §4.1.4: a server that does not know EHLO answers 500 or 502;
	// an old server then expects HELO. LMTP has no fallback (RFC 2033 §4.1).
	if c.opts.LMTP || (rep.Code != 500 && rep.Code != 502) || c.err != nil {
		return clientReplyError(rep)
	}
	rep, err = c.cmd(ctx, append(append(c.line[:0], "HELO "...), c.opts.LocalName...))
	if err != nil {
		return err
	}
	if rep.Code != 250 {
		return clientReplyError(rep)
	}
	c.hello = rep
	return nil
}

// parseExtensions reads the EHLO keywords (RFC 5321 §4.1.1.1): every line
// after the first is "KEYWORD [params]".
func (c *Client) parseExtensions(rep *Reply) {
	for _, l := range rep.Lines[1:] {
		kw, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		if kw == "" {
			continue
		}
		kw = strings.ToUpper(kw)
		// Some old servers announce "AUTH=PLAIN LOGIN" as well as, or instead
		// of, "AUTH PLAIN LOGIN".
		if rest, ok := strings.CutPrefix(kw, "AUTH="); ok {
			if _, dup := c.ext["AUTH"]; dup {
				continue
			}
			kw, params = "AUTH", strings.TrimSpace(rest+" "+params)
		}
		c.ext[kw] = strings.TrimSpace(params)
	}
	for _, m := range strings.Fields(c.ext["AUTH"]) {
		c.mechs = append(c.mechs, strings.ToUpper(m))
	}
}

// Extension reports whether the server offers the EHLO keyword name (case
// does not matter) and returns its parameters, such as "10240000" for SIZE.
func (c *Client) Extension(name string) (params string, ok bool) {
	params, ok = c.ext[strings.ToUpper(name)]
	return params, ok
}

// Extensions returns a copy of the server's EHLO keywords and their
// parameters, keywords upper-cased.
func (c *Client) Extensions() map[string]string {
	m := make(map[string]string, len(c.ext))
	for k, v := range c.ext {
		m[k] = v
	}
	return m
}

// AuthMechanisms returns the SASL mechanisms the server offers, upper-cased.
func (c *Client) AuthMechanisms() []string { return append([]string(nil), c.mechs...) }

// MaxMessageSize returns the server's SIZE limit (RFC 1870): 0 when it offers
// SIZE without a number; ok is false when it does not offer SIZE.
func (c *Client) MaxMessageSize() (size int64, ok bool) {
	p, ok := c.ext["SIZE"]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(p, 10, 64)
	if err != nil || n < 0 {
		return 0, true
	}
	return n, true
}

// Greeting returns the server's greeting reply.
func (c *Client) Greeting() *Reply { return c.greeting }

// HelloReply returns the server's reply to the last EHLO, LHLO or HELO.
func (c *Client) HelloReply() *Reply { return c.hello }

// TLSConnectionState returns the TLS state when the connection uses TLS.
func (c *Client) TLSConnectionState() (state tls.ConnectionState, ok bool) {
	tc, ok := c.conn.(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}

// Conn returns the underlying connection (a *tls.Conn after StartTLS).
func (c *Client) Conn() net.Conn { return c.conn }

// StartTLS upgrades the connection with STARTTLS (RFC 3207) and sends EHLO
// again, forgetting what the server said before (RFC 3207 §4.2). A nil config
// means the ClientOptions' TLSConfig, with the same defaults.
func (c *Client) StartTLS(ctx context.Context, config *tls.Config) error {
	if c.err != nil {
		return c.err
	}
	if c.tls {
		return errors.New("smtp: StartTLS: the connection already uses TLS")
	}
	if _, ok := c.ext["STARTTLS"]; !ok {
		return errors.New("smtp: StartTLS: the server does not offer STARTTLS")
	}
	if config == nil {
		config = clientTLSConfig(&c.opts, c.serverName)
	} else {
		config = config.Clone()
		if config.ServerName == "" {
			config.ServerName = c.serverName
		}
		if config.MinVersion == 0 {
			config.MinVersion = tls.VersionTLS12
		}
	}
	if c.inMail {
		return errors.New("smtp: StartTLS during a mail transaction")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := c.arm(ctx)
	defer done()
	rep, err := c.cmd(ctx, append(c.line[:0], "STARTTLS"...))
	if err != nil {
		return err
	}
	if rep.Code != 220 {
		return clientReplyError(rep)
	}
	// Anything the server sent after its 220 and before the handshake was
	// not protected by TLS and must not be taken as a reply later (the
	// command injection of CVE-2011-0411, seen from the client side).
	if c.r.Buffered() > 0 {
		err := c.fail(ctx, errors.New("smtp: server sent data after its STARTTLS reply"))
		c.conn.Close()
		return err
	}
	tc := tls.Client(c.conn, config)
	c.refresh()
	if err := tc.HandshakeContext(ctx); err != nil {
		return c.fail(ctx, fmt.Errorf("smtp: TLS handshake: %w", err))
	}
	c.conn = tc
	c.tls = true
	c.r.Reset(timeoutIO{c})
	c.w.Reset(timeoutIO{c})
	c.ext, c.mechs, c.hello = nil, nil, nil
	return c.sayHello(ctx)
}

// Auth authenticates with a SASL mechanism (RFC 4954). The initial response,
// if the mechanism has one, goes with the AUTH command ("=" when empty),
// unless that would make the command longer than 512 octets.
//
// Auth refuses to run on a connection without TLS unless AllowInsecureAuth
// is set, and refuses mechanisms the server does not offer. A rejected
// exchange returns the server's *Error (typically 535 5.7.8).
func (c *Client) Auth(ctx context.Context, a auth.Client) error {
	if c.err != nil {
		return c.err
	}
	if !c.tls && !c.opts.AllowInsecureAuth {
		return ErrInsecureAuth
	}
	if c.authed {
		return errors.New("smtp: already authenticated")
	}
	if c.inMail {
		return errors.New("smtp: Auth during a mail transaction")
	}
	mech, ir, err := a.Start()
	if err != nil {
		return fmt.Errorf("smtp: auth: %w", err)
	}
	mech = strings.ToUpper(mech)
	offered := false
	for _, m := range c.mechs {
		offered = offered || m == mech
	}
	if !offered {
		return fmt.Errorf("smtp: the server does not offer AUTH %s", mech)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	done := c.arm(ctx)
	defer done()
	// Challenges may be much longer than other replies (RFC 4954 §4).
	c.r.SetMax(max(MaxAuthLineLength, c.opts.MaxReplyLineLength))
	defer c.r.SetMax(c.opts.MaxReplyLineLength)

	line := append(append(c.line[:0], "AUTH "...), mech...)
	pending := ir // an initial response not yet sent
	if ir != nil {
		enc := "="
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		if len(line)+1+len(enc)+2 <= clientMaxCommandLine {
			line = append(append(line, ' '), enc...)
			pending = nil
		}
	}
	rep, err := c.cmd(ctx, line)
	for err == nil && rep.Code == 334 {
		var resp []byte
		if pending != nil {
			// RFC 4954 §4: the response withheld for its length answers
			// the server's empty challenge.
			resp, pending = pending, nil
		} else {
			challenge, derr := decodeAuthChallenge(rep)
			if derr != nil {
				c.cancelAuth(ctx)
				return derr
			}
			resp, err = a.Next(challenge)
			if err != nil {
				c.cancelAuth(ctx)
				return fmt.Errorf("smtp: auth %s: %w", mech, err)
			}
		}
		// Responses are not bound by the command line limit (RFC 4954 §4).
		c.w.WriteString(base64.StdEncoding.EncodeToString(resp))
		c.w.WriteString("\r\n")
		if err = c.flush(ctx); err != nil {
			break
		}
		rep, err = c.readReply(ctx)
	}
	if err != nil {
		return err
	}
	// RFC 4954 §6 says 235; some servers say 250, which is success all the same.
	if rep.Code/100 != 2 {
		return clientReplyError(rep)
	}
	c.authed = true
	return nil
}

// Login authenticates with a user name and password, using the strongest
// password mechanism the server offers that is safe on this connection
// (auth.ChooseMechanism): SCRAM with channel binding over TLS first, then
// SCRAM, then PLAIN or LOGIN over TLS, then CRAM-MD5. Like Auth, it refuses to
// run without TLS unless AllowInsecureAuth is set; even then PLAIN and LOGIN
// are not chosen without TLS.
func (c *Client) Login(ctx context.Context, username, password string) error {
	if c.err != nil {
		return c.err
	}
	if !c.tls && !c.opts.AllowInsecureAuth {
		return ErrInsecureAuth
	}
	var cs *tls.ConnectionState
	if st, ok := c.TLSConnectionState(); ok {
		cs = &st
	}
	mech := auth.ChooseMechanism(c.mechs, cs)
	if mech == "" {
		return fmt.Errorf("smtp: no password mechanism usable among %v", c.mechs)
	}
	a, err := auth.NewClient(mech, username, password, cs)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	return c.Auth(ctx, a)
}

// decodeAuthChallenge decodes a 334 challenge. RFC 4954 §4: base64 with nothing
// else; any other character makes the client cancel.
func decodeAuthChallenge(rep *Reply) ([]byte, error) {
	text := rep.Message()
	// The reply parser takes a leading "d.d.d" as an enhanced code; a 334
	// challenge never has one, so put it back.
	if !rep.EnhancedCode.IsZero() {
		text = strings.TrimSpace(rep.EnhancedCode.String() + " " + text)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("smtp: auth: malformed challenge: %w", err)
	}
	return b, nil
}

// cancelAuth sends "*" and reads the server's 501 (RFC 4954 §4).
func (c *Client) cancelAuth(ctx context.Context) {
	c.w.WriteString("*\r\n")
	if c.flush(ctx) == nil {
		c.readReply(ctx)
	}
}

// ErrInsecureAuth is returned by Auth on a connection without TLS when
// ClientOptions.AllowInsecureAuth is not set.
var ErrInsecureAuth = errors.New("smtp: refusing AUTH on a connection without TLS (see ClientOptions.AllowInsecureAuth)")

// Noop sends NOOP (RFC 5321 §4.1.1.9), to keep the connection alive or check
// that it still works.
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.simple(ctx, 250, "NOOP")
	return err
}

// Reset sends RSET (RFC 5321 §4.1.1.5), ending any mail transaction.
func (c *Client) Reset(ctx context.Context) error {
	_, err := c.simple(ctx, 250, "RSET")
	if err == nil {
		c.endMail()
	}
	return err
}

// Verify sends VRFY for addr (RFC 5321 §4.1.1.6). Most servers answer 252,
// which Verify reports as success.
func (c *Client) Verify(ctx context.Context, addr string) (*Reply, error) {
	if strings.ContainsAny(addr, "\r\n") {
		return nil, errors.New("smtp: line break in VRFY argument")
	}
	return c.simple(ctx, 250, "VRFY "+addr)
}

// Quit sends QUIT (RFC 5321 §4.1.1.10), reads the reply and closes the
// connection. The connection is closed even when QUIT fails.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.simple(ctx, 221, "QUIT")
	if cerr := c.conn.Close(); err == nil && cerr != nil && c.err == nil {
		err = cerr
	}
	if c.err == nil {
		c.err = net.ErrClosed
	}
	return err
}

// quitQuietly sends QUIT without waiting for the reply, as RFC 5321 §3.1 asks
// after a 554 greeting.
func (c *Client) quitQuietly() {
	c.w.WriteString("QUIT\r\n")
	c.w.Flush()
}

// Close closes the connection without QUIT.
func (c *Client) Close() error {
	if c.err == nil {
		c.err = net.ErrClosed
	}
	return c.conn.Close()
}
