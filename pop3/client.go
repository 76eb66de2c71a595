package pop3

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/textline"
)

// maxClientLine bounds the lines the client reads. Status lines are limited to
// 512 octets by RFC 2449 §4; the client is lenient up to this. Message lines
// longer than this pass through Retr in pieces.
const maxClientLine = 8192

// DefaultClientTimeout bounds each wait of a Client for the server (a
// response line, a read of a message, room to write) when the context of the
// call has no deadline.
const DefaultClientTimeout = 5 * time.Minute

// maxListEntries bounds the entries of a LIST, UIDL or CAPA response.
const maxListEntries = 1 << 22

// maxListBytes bounds the bytes of a LIST, UIDL or CAPA response the client
// holds in memory: enough for the UIDL of more than a million messages. A
// variable for tests.
var maxListBytes = 128 << 20

// ErrProtocol is wrapped by errors about server responses that break the
// protocol.
var ErrProtocol = errors.New("pop3: protocol error")

// Client is a POP3 client connection (RFC 1939). Its methods must not be
// called concurrently, and a message reader returned by Retr or Top must be
// read to the end or closed before the next command.
type Client struct {
	// Timeout bounds each wait for the server in calls whose context has no
	// deadline; a context deadline replaces it. Zero means
	// DefaultClientTimeout, negative no bound.
	Timeout time.Duration

	// AllowInsecureAuth lets User, Pass, UserPass, Auth and Login run on a
	// connection without TLS. By default they refuse to, with
	// ErrInsecureAuth, so that no credential crosses the network in the
	// clear; use STLS or DialTLS. APOP sends no password and is allowed.
	AllowInsecureAuth bool

	nc        net.Conn
	r         *textline.Reader
	greeting  Response
	timestamp string
	tls       bool
	busy      *messageReader
	addr      string           // as given to Dial, for STLS's server name
	deadline  netutil.Deadline // each call's context on nc
}

// Dial connects to a POP3 server at addr (host:port) in cleartext and reads
// its greeting. Use STLS to protect the connection.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.addr = addr
	return c, nil
}

// DialTLS connects to a POP3 server over implicit TLS (port 995, RFC 8314)
// and reads its greeting. A nil config uses the host part of addr as the
// server name.
func DialTLS(ctx context.Context, addr string, config *tls.Config) (*Client, error) {
	d := tls.Dialer{Config: clientTLS(config, addr)}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c, err := NewClient(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	c.tls = true
	return c, nil
}

func clientTLS(config *tls.Config, addr string) *tls.Config {
	if config == nil {
		config = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		config = config.Clone()
	}
	if config.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			config.ServerName = host
		}
	}
	if config.MinVersion < tls.VersionTLS12 {
		config.MinVersion = tls.VersionTLS12
	}
	return config
}

// NewClient reads the greeting from a connection that is already open and
// returns a Client using it.
func NewClient(ctx context.Context, nc net.Conn) (*Client, error) {
	c := &Client{nc: nc}
	c.r = textline.NewReader(timeoutIO{c}, maxClientLine)
	_, isTLS := nc.(*tls.Conn)
	c.tls = isTLS
	defer c.watch(ctx)()
	resp, err := c.readResponse()
	if err != nil {
		return nil, err
	}
	if !resp.OK {
		return nil, resp.Err()
	}
	c.greeting = resp
	// RFC 1939 §7: the APOP timestamp is the msg-id in the greeting.
	if i := strings.IndexByte(resp.Message, '<'); i >= 0 {
		if j := strings.IndexByte(resp.Message[i:], '>'); j > 0 {
			c.timestamp = resp.Message[i : i+j+1]
		}
	}
	return c, nil
}

// Greeting returns the server's greeting.
func (c *Client) Greeting() Response { return c.greeting }

// Conn returns the underlying connection (a *tls.Conn after STLS).
func (c *Client) Conn() net.Conn { return c.nc }

// watch makes the connection honour ctx until the returned function is
// called: its deadline, or Timeout for each read and write when it has none,
// and its cancellation.
func (c *Client) watch(ctx context.Context) func() {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultClientTimeout
	}
	return c.deadline.Watch(ctx, c.nc, timeout)
}

// refresh moves the deadline Timeout ahead before an I/O in a call without
// a context deadline, unless the call was cancelled.
func (c *Client) refresh() { c.deadline.Refresh() }

// timeoutIO reads and writes c's current connection, refreshing the
// per-I/O deadline first.
type timeoutIO struct{ c *Client }

func (t timeoutIO) Read(p []byte) (int, error) {
	t.c.refresh()
	return t.c.nc.Read(p)
}

func (t timeoutIO) Write(p []byte) (int, error) {
	t.c.refresh()
	return t.c.nc.Write(p)
}

func (c *Client) readResponse() (Response, error) {
	line, end, err := c.r.ReadLine()
	if err == textline.ErrLineTooLong {
		return Response{}, fmt.Errorf("%w: response line longer than %d octets", ErrProtocol, maxClientLine)
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Response{}, err
	}
	if end == textline.EndNone {
		return Response{}, io.ErrUnexpectedEOF
	}
	resp, err := ParseResponse(line)
	if err != nil {
		return resp, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return resp, nil
}

func (c *Client) ready() error {
	if c.busy != nil && !c.busy.done {
		return errors.New("pop3: previous message not read to the end or closed")
	}
	c.busy = nil
	return nil
}

// send writes a command line. CR and LF in arguments would let a caller
// inject commands, so they are refused.
func (c *Client) send(cmd string, args ...string) error {
	if err := c.ready(); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(cmd)
	for _, a := range args {
		if strings.ContainsAny(a, "\r\n\x00") {
			return fmt.Errorf("pop3: %s argument contains CR, LF or NUL", cmd)
		}
		b.WriteByte(' ')
		b.WriteString(a)
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(timeoutIO{c}, b.String())
	return err
}

// cmd sends a command and reads a single-line response; -ERR is an *Error.
func (c *Client) cmd(ctx context.Context, cmd string, args ...string) (Response, error) {
	defer c.watch(ctx)()
	if err := c.send(cmd, args...); err != nil {
		return Response{}, err
	}
	resp, err := c.readResponse()
	if err != nil {
		return resp, err
	}
	return resp, resp.Err()
}

// readLines reads the body of a short multi-line response (LIST, UIDL, CAPA).
func (c *Client) readLines() ([]string, error) {
	var lines []string
	size := 0
	for {
		line, end, err := c.r.ReadLine()
		if err == textline.ErrLineTooLong {
			return nil, fmt.Errorf("%w: line longer than %d octets", ErrProtocol, maxClientLine)
		}
		if err != nil || end == textline.EndNone {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) > 0 && line[0] == '.' {
			if len(line) == 1 {
				return lines, nil
			}
			line = line[1:]
		}
		if size += len(line); len(lines) >= maxListEntries || size > maxListBytes {
			return nil, fmt.Errorf("%w: listing longer than %d lines or %d octets", ErrProtocol, maxListEntries, maxListBytes)
		}
		lines = append(lines, string(line))
	}
}

// multi sends a command whose success response is multi-line and returns the
// lines.
func (c *Client) multi(ctx context.Context, cmd string, args ...string) (Response, []string, error) {
	defer c.watch(ctx)()
	if err := c.send(cmd, args...); err != nil {
		return Response{}, nil, err
	}
	resp, err := c.readResponse()
	if err != nil {
		return resp, nil, err
	}
	if !resp.OK {
		return resp, nil, resp.Err()
	}
	lines, err := c.readLines()
	return resp, lines, err
}

// STLS upgrades the connection to TLS (RFC 2595 §4). Unless config names
// the server (ServerName), the certificate is verified against the host
// given to Dial, or for a Client made by NewClient the remote address.
func (c *Client) STLS(ctx context.Context, config *tls.Config) error {
	if c.tls {
		return errors.New("pop3: TLS already active")
	}
	if _, err := c.cmd(ctx, "STLS"); err != nil {
		return err
	}
	if c.r.Buffered() > 0 {
		// Data after +OK before the handshake can only be an injection.
		return fmt.Errorf("%w: data after STLS response", ErrProtocol)
	}
	addr := c.addr
	if addr == "" {
		addr = c.nc.RemoteAddr().String()
	}
	tc := tls.Client(c.nc, clientTLS(config, addr))
	defer c.watch(ctx)()
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	c.nc = tc
	c.r.Reset(timeoutIO{c})
	c.tls = true
	return nil
}

// ErrInsecureAuth is returned by User, Pass, UserPass, Auth and Login on a
// connection without TLS when Client.AllowInsecureAuth is not set.
var ErrInsecureAuth = errors.New("pop3: refusing to authenticate on a connection without TLS (see Client.AllowInsecureAuth)")

// secure checks that credentials may be sent.
func (c *Client) secure() error {
	if !c.tls && !c.AllowInsecureAuth {
		return ErrInsecureAuth
	}
	return nil
}

// User sends USER (RFC 1939 §7).
func (c *Client) User(ctx context.Context, name string) error {
	if err := c.secure(); err != nil {
		return err
	}
	_, err := c.cmd(ctx, "USER", name)
	return err
}

// Pass sends PASS; on success the session is in the TRANSACTION state.
func (c *Client) Pass(ctx context.Context, password string) error {
	if err := c.secure(); err != nil {
		return err
	}
	_, err := c.cmd(ctx, "PASS", password)
	return err
}

// UserPass logs in with USER and PASS (RFC 1939 §7).
func (c *Client) UserPass(ctx context.Context, name, password string) error {
	if err := c.User(ctx, name); err != nil {
		return err
	}
	return c.Pass(ctx, password)
}

// Login authenticates with a user name and password as smtp.Client.Login
// does: with the strongest SASL mechanism the server lists in CAPA that is
// safe on the connection (SCRAM, then PLAIN or LOGIN over TLS, then
// CRAM-MD5; see auth.ChooseMechanism), else with USER and PASS. Like Auth,
// it refuses to run without TLS unless AllowInsecureAuth is set.
func (c *Client) Login(ctx context.Context, name, password string) error {
	if err := c.secure(); err != nil {
		return err
	}
	caps, err := c.Capa(ctx)
	var pe *Error
	if errors.As(err, &pe) {
		// No CAPA (RFC 1939 servers): USER and PASS are all there is.
		return c.UserPass(ctx, name, password)
	}
	if err != nil {
		return err
	}
	var cs *tls.ConnectionState
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		cs = &st
	}
	if mech := auth.ChooseMechanism(caps["SASL"], cs); mech != "" {
		a, err := auth.NewClient(mech, name, password, cs)
		if err != nil {
			return fmt.Errorf("pop3: %w", err)
		}
		return c.Auth(ctx, a)
	}
	return c.UserPass(ctx, name, password)
}

// APOP logs in with the digest of the greeting's timestamp and the shared
// secret (RFC 1939 §7). It fails if the greeting had no timestamp.
func (c *Client) APOP(ctx context.Context, name, secret string) error {
	if c.timestamp == "" {
		return errors.New("pop3: server greeting has no APOP timestamp")
	}
	_, err := c.cmd(ctx, "APOP", name, apopDigest(c.timestamp, secret))
	return err
}

// Auth runs a SASL exchange with AUTH (RFC 5034). The initial response goes
// on the AUTH line when it fits in the 255-octet command limit. For a
// mechanism in which the server proves itself (auth.Completer, SCRAM), a
// +OK without a valid proof is an error wrapping auth.ErrAuthFailed; close
// the connection then, as the server may consider the session logged in.
func (c *Client) Auth(ctx context.Context, a auth.Client) error {
	if err := c.secure(); err != nil {
		return err
	}
	defer c.watch(ctx)()
	mech, ir, err := a.Start()
	if err != nil {
		return err
	}
	args := []string{mech}
	if ir != nil {
		enc := "="
		if len(ir) > 0 {
			enc = base64.StdEncoding.EncodeToString(ir)
		}
		if len("AUTH ")+len(mech)+1+len(enc)+2 <= MaxCommandLine {
			args = append(args, enc)
			ir = nil
		}
	}
	if err := c.send("AUTH", args...); err != nil {
		return err
	}
	for {
		line, end, err := c.r.ReadLine()
		if err == textline.ErrLineTooLong {
			// Challenges may be long; read the rest as one line.
			var rest []byte
			rest = append(rest, line...)
			for err == textline.ErrLineTooLong && len(rest) < 1<<20 {
				line, end, err = c.r.ReadLine()
				rest = append(rest, line...)
			}
			line = rest
		}
		if err != nil {
			return err
		}
		if end == textline.EndNone {
			return io.ErrUnexpectedEOF
		}
		if len(line) == 0 || line[0] != '+' || (len(line) >= 3 && strings.EqualFold(string(line[:3]), "+OK")) {
			resp, err := ParseResponse(line)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrProtocol, err)
			}
			if err := resp.Err(); err != nil {
				return err
			}
			// RFC 5802 §5: SCRAM clients check the server's proof.
			if cm, ok := a.(auth.Completer); ok {
				return cm.Complete()
			}
			return nil
		}
		chalText := strings.TrimPrefix(strings.TrimPrefix(string(line), "+"), " ")
		var resp []byte
		if ir != nil && chalText == "" {
			// The initial response did not fit on the AUTH line.
			resp, ir = ir, nil
		} else {
			chal, derr := base64.StdEncoding.Strict().DecodeString(chalText)
			if derr != nil {
				// RFC 5034 §4: cancel with "*" on an undecodable challenge.
				io.WriteString(timeoutIO{c}, "*\r\n")
				c.readResponse()
				return fmt.Errorf("%w: bad base64 in challenge", ErrProtocol)
			}
			resp, err = a.Next(chal)
			if err != nil {
				io.WriteString(timeoutIO{c}, "*\r\n")
				c.readResponse()
				return err
			}
		}
		if _, err := io.WriteString(timeoutIO{c}, base64.StdEncoding.EncodeToString(resp)+"\r\n"); err != nil {
			return err
		}
	}
}

// Capabilities maps CAPA tags in upper case to their parameters.
type Capabilities map[string][]string

// Has reports whether the server announced the tag.
func (c Capabilities) Has(tag string) bool {
	_, ok := c[strings.ToUpper(tag)]
	return ok
}

// Capa asks for the server's capabilities (RFC 2449 §5).
func (c *Client) Capa(ctx context.Context) (Capabilities, error) {
	_, lines, err := c.multi(ctx, "CAPA")
	if err != nil {
		return nil, err
	}
	caps := make(Capabilities, len(lines))
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		caps[strings.ToUpper(f[0])] = f[1:]
	}
	return caps, nil
}

// Stat returns the number of messages and their total size (RFC 1939 §5).
func (c *Client) Stat(ctx context.Context) (count int, size int64, err error) {
	resp, err := c.cmd(ctx, "STAT")
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(resp.Message)
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("%w: bad STAT response %q", ErrProtocol, resp.Message)
	}
	count, err1 := strconv.Atoi(f[0])
	size, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || count < 0 || size < 0 {
		return 0, 0, fmt.Errorf("%w: bad STAT response %q", ErrProtocol, resp.Message)
	}
	return count, size, nil
}

// ListEntry is an entry of a LIST or UIDL listing.
type ListEntry struct {
	Number int
	// Size is set by List, UID by Uidl.
	Size int64
	UID  string
}

func parseListing(s string, uidl bool) (ListEntry, error) {
	f := strings.Fields(s)
	if len(f) < 2 {
		return ListEntry{}, fmt.Errorf("%w: bad listing %q", ErrProtocol, s)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 {
		return ListEntry{}, fmt.Errorf("%w: bad message number in %q", ErrProtocol, s)
	}
	m := ListEntry{Number: n}
	if uidl {
		m.UID = f[1]
	} else if m.Size, err = strconv.ParseInt(f[1], 10, 64); err != nil || m.Size < 0 {
		return ListEntry{}, fmt.Errorf("%w: bad size in %q", ErrProtocol, s)
	}
	return m, nil
}

func (c *Client) listing(ctx context.Context, cmd string, uidl bool) ([]ListEntry, error) {
	_, lines, err := c.multi(ctx, cmd)
	if err != nil {
		return nil, err
	}
	out := make([]ListEntry, 0, len(lines))
	for _, l := range lines {
		m, err := parseListing(l, uidl)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (c *Client) listingOne(ctx context.Context, cmd string, n int, uidl bool) (ListEntry, error) {
	resp, err := c.cmd(ctx, cmd, strconv.Itoa(n))
	if err != nil {
		return ListEntry{}, err
	}
	return parseListing(resp.Message, uidl)
}

// List returns the number and size of every message not marked deleted.
func (c *Client) List(ctx context.Context) ([]ListEntry, error) {
	return c.listing(ctx, "LIST", false)
}

// ListOne returns the size of message n.
func (c *Client) ListOne(ctx context.Context, n int) (ListEntry, error) {
	return c.listingOne(ctx, "LIST", n, false)
}

// Uidl returns the unique-id of every message not marked deleted
// (RFC 1939 §7).
func (c *Client) Uidl(ctx context.Context) ([]ListEntry, error) {
	return c.listing(ctx, "UIDL", true)
}

// UidlOne returns the unique-id of message n.
func (c *Client) UidlOne(ctx context.Context, n int) (ListEntry, error) {
	return c.listingOne(ctx, "UIDL", n, true)
}

// messageReader streams a multi-line message body.
type messageReader struct {
	c    *Client
	dr   *dotReader
	stop func()
	done bool
	err  error
}

func (m *messageReader) Read(p []byte) (int, error) {
	if m.done {
		return 0, m.finalErr()
	}
	n, err := m.dr.Read(p)
	if err != nil {
		m.finish(err)
		if n > 0 {
			return n, nil
		}
		return 0, m.finalErr()
	}
	return n, nil
}

func (m *messageReader) WriteTo(w io.Writer) (int64, error) {
	if m.done {
		return 0, m.err
	}
	n, err := m.dr.WriteTo(w)
	if err != nil {
		m.err = err
		m.done = true
		m.stop()
		return n, err
	}
	m.finish(io.EOF)
	return n, nil
}

func (m *messageReader) finish(err error) {
	m.done = true
	m.stop()
	if err != io.EOF {
		m.err = err
	}
}

func (m *messageReader) finalErr() error {
	if m.err != nil {
		return m.err
	}
	return io.EOF
}

// Close reads and discards the rest of the message, so that the connection
// can take the next command.
func (m *messageReader) Close() error {
	if m.done {
		return m.err
	}
	_, err := io.Copy(io.Discard, m)
	return err
}

func (c *Client) retr(ctx context.Context, cmd string, args ...string) (io.ReadCloser, error) {
	stop := c.watch(ctx)
	if err := c.send(cmd, args...); err != nil {
		stop()
		return nil, err
	}
	resp, err := c.readResponse()
	if err == nil {
		err = resp.Err()
	}
	if err != nil {
		stop()
		return nil, err
	}
	m := &messageReader{c: c, dr: newDotReader(c.r), stop: stop}
	c.busy = m
	return m, nil
}

// Retr returns message n as a stream with CRLF line ends and the
// dot-stuffing undone (RFC 1939 §7). The stream honours ctx until it ends;
// read it to the end or close it before the next command.
func (c *Client) Retr(ctx context.Context, n int) (io.ReadCloser, error) {
	return c.retr(ctx, "RETR", strconv.Itoa(n))
}

// Top returns the header of message n and the first lines lines of its body
// (RFC 1939 §7), as Retr does.
func (c *Client) Top(ctx context.Context, n, lines int) (io.ReadCloser, error) {
	return c.retr(ctx, "TOP", strconv.Itoa(n), strconv.Itoa(lines))
}

// Dele marks message n deleted; the server removes it at Quit.
func (c *Client) Dele(ctx context.Context, n int) error {
	_, err := c.cmd(ctx, "DELE", strconv.Itoa(n))
	return err
}

// Rset unmarks all messages marked deleted.
func (c *Client) Rset(ctx context.Context) error {
	_, err := c.cmd(ctx, "RSET")
	return err
}

// Noop does nothing but keep the session alive.
func (c *Client) Noop(ctx context.Context) error {
	_, err := c.cmd(ctx, "NOOP")
	return err
}

// Quit ends the session; messages marked deleted are removed (RFC 1939 §6).
// An *Error means the server could not remove some of them. The connection
// is closed in any case.
func (c *Client) Quit(ctx context.Context) error {
	_, err := c.cmd(ctx, "QUIT")
	c.nc.Close()
	return err
}

// Close closes the connection without QUIT: the server deletes nothing.
func (c *Client) Close() error { return c.nc.Close() }
