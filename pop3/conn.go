package pop3

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/textline"
)

// Session states of RFC 1939 §3.
const (
	stateAuthorization = iota
	stateTransaction
)

// conn is one POP3 session.
type conn struct {
	srv *Server
	log *slog.Logger

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
	d.nc.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.nc.Write(p)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc}
	c.log = s.logger().With("remote", nc.RemoteAddr().String())
	c.dw = deadlineWriter{nc: nc, timeout: durationOr(s.WriteTimeout, DefaultWriteTimeout)}
	c.r = textline.NewReader(nc, MaxCommandLine-2)
	c.w = bufio.NewWriterSize(&c.dw, 32*1024)
	// Backend calls get a context that ends with the connection.
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// kick makes a connection waiting for a command give up (Shutdown).
func (c *conn) kick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ending {
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *conn) closeNow() {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nc.Close()
}

// closeLinger closes the connection after the last response so that a
// client still sending reads it rather than a reset; closeNow (Server.Close)
// cuts it short.
func (c *conn) closeLinger() {
	c.cancel()
	c.mu.Lock()
	c.ending = true
	nc := c.nc
	c.mu.Unlock()
	netutil.CloseLinger(nc)
}

func (c *conn) connState() ConnState {
	return ConnState{RemoteAddr: c.nc.RemoteAddr(), LocalAddr: c.nc.LocalAddr(), TLS: c.tls}
}

func (c *conn) serve() {
	defer c.srv.untrackConn(c)
	defer c.closeLinger()
	defer c.cancel()
	defer func() {
		if c.drop != nil {
			// Any way out other than QUIT: nothing is deleted (RFC 1939 §6).
			if err := c.drop.Close(); err != nil {
				c.log.Warn("pop3: closing maildrop", "user", c.user, "err", err)
			}
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("pop3: panic in session", "panic", v)
		}
	}()

	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := c.handshake(tc); err != nil {
			c.log.Debug("pop3: TLS handshake failed", "err", err)
			return
		}
	}
	c.log.Debug("pop3: connection opened")
	greeting := c.srv.hostname() + " POP3 server ready"
	if _, ok := c.srv.Backend.(APOPBackend); ok {
		// RFC 1939 §7: the timestamp must be different each time.
		var rnd [12]byte
		rand.Read(rnd[:])
		c.timestamp = fmt.Sprintf("<%x.%d@%s>", rnd, time.Now().UnixNano(), c.srv.hostname())
		greeting += " " + c.timestamp
	}
	c.reply(true, "", greeting)
	c.flush()

	for {
		cmd, err := c.readCommand()
		var alive bool
		switch {
		case err == nil:
			alive = c.handle(cmd)
		case errors.Is(err, textline.ErrLineTooLong):
			alive = c.fail("", "line too long")
		case errors.Is(err, ErrSyntax):
			alive = c.fail("", "syntax error")
		default:
			if c.srv.shuttingDown() {
				c.reply(false, CodeSysTemp, "server shutting down")
			} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
				// RFC 1939 §3: autologout, without entering UPDATE.
				c.reply(false, "", "autologout timer expired")
			}
		}
		if !alive {
			c.flush()
			return
		}
		// PIPELINING (RFC 2449 §6.6): answer a batch of commands with as few
		// writes as possible, flushing only when no more input is waiting.
		if c.r.Buffered() == 0 {
			if err := c.flush(); err != nil {
				return
			}
		}
	}
}

func (c *conn) handshake(tc *tls.Conn) error {
	timeout := durationOr(c.srv.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.tls = &st
	return nil
}

// armRead sets the autologout deadline for the next read, unless the server
// is shutting down. Under c.mu, so that Shutdown's kick is never overridden.
func (c *conn) armRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv.shuttingDown() {
		return ErrServerClosed
	}
	return c.nc.SetReadDeadline(time.Now().Add(durationOr(c.srv.IdleTimeout, DefaultIdleTimeout)))
}

func (c *conn) readCommand() (Command, error) {
	if err := c.armRead(); err != nil {
		return Command{}, err
	}
	line, end, err := c.r.ReadLine()
	if err == textline.ErrLineTooLong && len(line) >= 5 && strings.EqualFold(string(line[:5]), "AUTH ") {
		// RFC 5034 §4 keeps an initial response within the 255-octet
		// command limit, but clients sending OAuth tokens exceed it (and
		// Dovecot accepts them): an AUTH line may be as long as a line of
		// the exchange.
		head := append([]byte(nil), line...)
		c.r.SetMax(max(intOr(c.srv.MaxSASLLine, DefaultMaxSASLLine)-len(head), 1))
		var rest []byte
		rest, end, err = c.r.ReadLine()
		c.r.SetMax(MaxCommandLine - 2)
		line = append(head, rest...)
	}
	if err == textline.ErrLineTooLong {
		if _, _, err := c.r.SkipLine(); err != nil {
			return Command{}, err
		}
		return Command{}, textline.ErrLineTooLong
	}
	if err != nil {
		return Command{}, err
	}
	if end == textline.EndNone {
		return Command{}, io.ErrUnexpectedEOF
	}
	return ParseCommand(line)
}

// lineBreaks turns CR and LF in a response text, which a Backend's *Error
// might carry, into spaces: they would end the response early and let the
// rest pass for another.
var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// reply writes a single-line response.
func (c *conn) reply(ok bool, code, text string) {
	if strings.ContainsAny(code+text, "\r\n") {
		code, text = lineBreaks.Replace(code), lineBreaks.Replace(text)
	}
	if ok {
		c.w.WriteString("+OK")
	} else {
		c.w.WriteString("-ERR")
	}
	if code != "" {
		c.w.WriteString(" [")
		c.w.WriteString(code)
		c.w.WriteByte(']')
	}
	if text != "" {
		c.w.WriteByte(' ')
		c.w.WriteString(text)
	}
	c.w.WriteString("\r\n")
}

func (c *conn) flush() error { return c.w.Flush() }

// fail answers a bad command with -ERR and reports whether the session may
// go on (MaxErrors).
func (c *conn) fail(code, text string) bool {
	c.errors++
	if c.errors >= intOr(c.srv.MaxErrors, DefaultMaxErrors) {
		c.reply(false, code, text+"; too many errors, closing connection")
		c.flush()
		return false
	}
	c.reply(false, code, text)
	return true
}

// replyErr reports a backend error.
func (c *conn) replyErr(err error, what string) {
	code, text := c.errReply(err, what)
	c.reply(false, code, text)
}

// errReply chooses the response code and text for a backend error: its own
// for an *Error, [AUTH] for auth.ErrAuthFailed, and [SYS/TEMP] with a generic
// text for anything else, whose details go to the log only.
func (c *conn) errReply(err error, what string) (code, text string) {
	var pe *Error
	switch {
	case errors.As(err, &pe):
		return pe.Code, pe.Text
	case errors.Is(err, auth.ErrAuthFailed):
		return CodeAuth, "authentication failed"
	}
	c.log.Error("pop3: backend error", "op", what, "user", c.user, "err", err)
	return CodeSysTemp, what + " failed, try again later"
}

// handle runs one command and reports whether the session goes on.
func (c *conn) handle(cmd Command) bool {
	if cmd.Name == "CAPA" {
		// RFC 2449 §5: valid in AUTHORIZATION and TRANSACTION.
		if len(cmd.Args) != 0 {
			return c.fail("", "CAPA takes no arguments")
		}
		c.capa()
		return true
	}
	if cmd.Name == "QUIT" {
		return c.quit()
	}
	if c.state == stateAuthorization {
		switch cmd.Name {
		case "USER":
			return c.cmdUser(cmd)
		case "PASS":
			return c.cmdPass(cmd)
		case "APOP":
			return c.cmdAPOP(cmd)
		case "AUTH":
			return c.cmdAuth(cmd)
		case "STLS":
			return c.cmdSTLS(cmd)
		case "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL":
			return c.fail("", "not allowed before authentication")
		}
		return c.fail("", "unknown command")
	}
	switch cmd.Name {
	case "STAT":
		if len(cmd.Args) != 0 {
			return c.fail("", "STAT takes no arguments")
		}
		c.reply(true, "", strconv.Itoa(len(c.msgs)-c.ndel)+" "+strconv.FormatInt(c.total-c.delSize, 10))
	case "LIST":
		return c.cmdList(cmd, false)
	case "UIDL":
		return c.cmdList(cmd, true)
	case "RETR":
		if len(cmd.Args) != 1 {
			return c.fail("", "usage: RETR msg")
		}
		return c.cmdRetr(cmd.Args[0], -1)
	case "TOP":
		if len(cmd.Args) != 2 {
			return c.fail("", "usage: TOP msg lines")
		}
		n, ok := parseCount(cmd.Args[1])
		if !ok {
			return c.fail("", "invalid line count")
		}
		return c.cmdRetr(cmd.Args[0], n)
	case "DELE":
		if len(cmd.Args) != 1 {
			return c.fail("", "usage: DELE msg")
		}
		i, ok := c.message(cmd.Args[0])
		if !ok {
			return true
		}
		c.deleted[i] = true
		c.ndel++
		c.delSize += c.msgs[i].Size
		c.reply(true, "", "message "+cmd.Args[0]+" deleted")
	case "NOOP":
		if len(cmd.Args) != 0 {
			return c.fail("", "NOOP takes no arguments")
		}
		c.reply(true, "", "")
	case "RSET":
		if len(cmd.Args) != 0 {
			return c.fail("", "RSET takes no arguments")
		}
		clear(c.deleted)
		c.ndel, c.delSize = 0, 0
		c.reply(true, "", c.summary())
	case "USER", "PASS", "APOP", "AUTH", "STLS":
		return c.fail("", "already authenticated")
	default:
		return c.fail("", "unknown command")
	}
	return true
}

func (c *conn) summary() string {
	return fmt.Sprintf("maildrop has %d messages (%d octets)", len(c.msgs)-c.ndel, c.total-c.delSize)
}

// message resolves a message number argument, answering -ERR itself when it
// does not name a message that is there.
func (c *conn) message(arg string) (int, bool) {
	n, ok := parseNumber(arg)
	if !ok || n < 1 {
		c.fail("", "invalid message number")
		return 0, false
	}
	if n > len(c.msgs) {
		c.reply(false, "", "no such message, only "+strconv.Itoa(len(c.msgs))+" messages in maildrop")
		return 0, false
	}
	if c.deleted[n-1] {
		// RFC 1939 §5: a message marked deleted may not be referred to.
		c.reply(false, "", "message "+arg+" already deleted")
		return 0, false
	}
	return n - 1, true
}

func (c *conn) capa() {
	c.reply(true, "", "capability list follows")
	w := c.w
	w.WriteString("TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n")
	allowed := c.authAllowed()
	if allowed {
		w.WriteString("USER\r\n")
	}
	if sb, ok := c.srv.Backend.(SASLBackend); ok && allowed {
		if mechs := sb.SASLMechanisms(c.tls); len(mechs) > 0 {
			w.WriteString("SASL " + strings.Join(mechs, " ") + "\r\n")
		}
	}
	if c.state == stateAuthorization && c.tls == nil && c.srv.TLSConfig != nil {
		w.WriteString("STLS\r\n")
	}
	if c.srv.Expire != "" {
		w.WriteString("EXPIRE " + c.srv.Expire + "\r\n")
	}
	if c.srv.LoginDelay > 0 {
		w.WriteString("LOGIN-DELAY " + strconv.Itoa(int(c.srv.LoginDelay/time.Second)) + "\r\n")
	}
	switch impl := c.srv.Implementation; impl {
	case "-":
	case "":
		w.WriteString("IMPLEMENTATION mailwire\r\n")
	default:
		w.WriteString("IMPLEMENTATION " + impl + "\r\n")
	}
	w.WriteString(".\r\n")
}

// authAllowed: RFC 2595 §2 and RFC 5034 §4 — no cleartext passwords on an
// unprotected connection unless the server is configured to allow it.
func (c *conn) authAllowed() bool { return c.tls != nil || c.srv.AllowInsecureAuth }

func (c *conn) refuseInsecure() bool {
	if c.srv.TLSConfig != nil {
		return c.fail(CodeAuth, "cleartext authentication not allowed, use STLS first")
	}
	return c.fail(CodeAuth, "cleartext authentication not allowed")
}

func (c *conn) cmdUser(cmd Command) bool {
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	if cmd.Params == "" {
		return c.fail("", "usage: USER name")
	}
	c.user = cmd.Params
	c.reply(true, "", "send PASS")
	return true
}

func (c *conn) cmdPass(cmd Command) bool {
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	if c.user == "" {
		return c.fail("", "send USER first")
	}
	user := c.user
	c.user = ""
	ctx := c.backendCtx()
	if err := c.srv.Backend.Authenticate(ctx, user, cmd.Params); err != nil {
		return c.authFailed(err, user)
	}
	return c.login(ctx, user)
}

func (c *conn) backendCtx() context.Context {
	return context.WithValue(c.ctx, connStateKey{}, c.connState())
}

// authFailed answers a failed login and reports whether the session goes on.
func (c *conn) authFailed(err error, user string) bool {
	c.authFails++
	c.log.Info("pop3: authentication failed", "user", user, "err", err)
	code, text := c.errReply(err, "authentication")
	if c.authFails >= intOr(c.srv.MaxAuthAttempts, DefaultMaxAuthAttempts) {
		c.reply(false, code, text+"; too many failures, closing connection")
		return false
	}
	c.reply(false, code, text)
	return true
}

// login opens the maildrop and enters TRANSACTION (RFC 1939 §4).
func (c *conn) login(ctx context.Context, user string) bool {
	drop, err := c.srv.Backend.OpenMaildrop(ctx, user)
	if err != nil {
		c.log.Info("pop3: cannot open maildrop", "user", user, "err", err)
		c.replyErr(err, "opening the maildrop")
		return true
	}
	msgs, err := drop.Messages(ctx)
	if err != nil {
		drop.Close()
		c.replyErr(err, "listing the maildrop")
		return true
	}
	for _, m := range msgs {
		if !validUID(m.UID) || m.Size < 0 {
			// A CR, LF or space in a UID would corrupt UIDL (or inject
			// responses); refuse the maildrop rather than send it.
			drop.Close()
			c.log.Error("pop3: maildrop lists an invalid message", "user", user, "uid", m.UID, "size", m.Size)
			c.reply(false, CodeSysPerm, "maildrop is damaged")
			return true
		}
	}
	c.drop, c.msgs, c.user = drop, msgs, user
	c.deleted = make([]bool, len(msgs))
	c.total = 0
	for _, m := range msgs {
		c.total += m.Size
	}
	c.state = stateTransaction
	c.log.Info("pop3: logged in", "user", user, "messages", len(msgs))
	c.reply(true, "", c.summary())
	return true
}

func (c *conn) cmdAPOP(cmd Command) bool {
	ab, ok := c.srv.Backend.(APOPBackend)
	if !ok || c.timestamp == "" {
		return c.fail("", "APOP not supported")
	}
	if len(cmd.Args) != 2 {
		return c.fail("", "usage: APOP name digest")
	}
	user, digest := cmd.Args[0], strings.ToLower(cmd.Args[1])
	ctx := c.backendCtx()
	secret, err := ab.APOPSecret(ctx, user)
	if err != nil {
		return c.authFailed(err, user)
	}
	want := apopDigest(c.timestamp, secret)
	// Constant time: the digest is a secret-derived value.
	if subtle.ConstantTimeCompare([]byte(want), []byte(digest)) != 1 {
		return c.authFailed(auth.ErrAuthFailed, user)
	}
	return c.login(ctx, user)
}

func (c *conn) cmdSTLS(cmd Command) bool {
	if c.srv.TLSConfig == nil {
		return c.fail("", "STLS not supported")
	}
	if c.tls != nil {
		return c.fail("", "TLS already active")
	}
	if len(cmd.Args) != 0 {
		return c.fail("", "STLS takes no arguments")
	}
	c.reply(true, "", "begin TLS negotiation")
	if err := c.flush(); err != nil {
		return false
	}
	tc := tls.Server(c.nc, c.srv.tlsConfig())
	if err := c.handshake(tc); err != nil {
		c.log.Debug("pop3: STLS handshake failed", "err", err)
		return false
	}
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.dw.nc = tc
	// RFC 2595 §4 and the STARTTLS injection attack: whatever the client sent
	// before the handshake is dropped, as is what we learnt (USER).
	c.r.Reset(tc)
	c.w.Reset(&c.dw)
	c.user = ""
	return true
}

func (c *conn) cmdAuth(cmd Command) bool {
	sb, ok := c.srv.Backend.(SASLBackend)
	if !ok {
		return c.fail("", "AUTH not supported")
	}
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	mechs := sb.SASLMechanisms(c.tls)
	if len(cmd.Args) == 0 {
		// The RFC 1734 form some clients still send: list the mechanisms.
		c.reply(true, "", "")
		for _, m := range mechs {
			c.w.WriteString(m + "\r\n")
		}
		c.w.WriteString(".\r\n")
		return true
	}
	if len(cmd.Args) > 2 {
		return c.fail("", "usage: AUTH mechanism [initial-response]")
	}
	mech := strings.ToUpper(cmd.Args[0])
	if !slices.ContainsFunc(mechs, func(m string) bool { return strings.EqualFold(m, mech) }) {
		return c.fail("", "unsupported authentication mechanism")
	}
	ctx := c.backendCtx()
	srv, err := sb.NewSASLServer(ctx, mech, c.tls)
	if errors.Is(err, auth.ErrNoMechanism) {
		return c.fail("", "unsupported authentication mechanism")
	}
	if err != nil {
		c.replyErr(err, "authentication")
		return true
	}
	var resp []byte
	if len(cmd.Args) == 2 {
		if resp, err = decodeSASL(cmd.Args[1]); err != nil {
			return c.fail("", "invalid base64 in initial response")
		}
	}
	maxLine := intOr(c.srv.MaxSASLLine, DefaultMaxSASLLine)
	for range 64 { // a bound on round trips; real mechanisms need at most a few
		chal, done, err := srv.Next(ctx, resp)
		if err != nil {
			switch {
			case errors.Is(err, auth.ErrAuthFailed):
				return c.authFailed(err, "")
			case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrTooLong), errors.Is(err, auth.ErrUnexpected):
				c.log.Info("pop3: AUTH failed", "mech", mech, "err", err)
				return c.fail(CodeAuth, "authentication failed")
			}
			// The credential store failed (RFC 3206 §4: [SYS/TEMP]); the
			// details go to the log only.
			c.replyErr(err, "authentication")
			return true
		}
		if done && len(chal) == 0 {
			return c.login(ctx, srv.Identity())
		}
		// RFC 5034 §4: POP3 has no additional data with success, so it goes
		// out as a challenge and the client answers with an empty line
		// (RFC 4422 §3.6).
		c.w.WriteString("+ " + base64.StdEncoding.EncodeToString(chal) + "\r\n")
		if err := c.flush(); err != nil {
			return false
		}
		line, ok, alive := c.readSASLLine(maxLine)
		if !ok {
			return alive
		}
		if line == "*" {
			return c.fail("", "authentication cancelled")
		}
		if resp, err = decodeSASL(line); err != nil {
			return c.fail("", "invalid base64 in response")
		}
		if done {
			if len(resp) != 0 {
				return c.fail("", "authentication failed: unexpected data")
			}
			return c.login(ctx, srv.Identity())
		}
	}
	return c.fail("", "authentication exchange too long")
}

// readSASLLine reads one client line of an AUTH exchange, with its own limit.
// ok false means the exchange is over; alive says whether the session is.
func (c *conn) readSASLLine(maxLine int) (line string, ok, alive bool) {
	c.r.SetMax(maxLine)
	defer c.r.SetMax(MaxCommandLine - 2)
	if err := c.armRead(); err != nil {
		return "", false, false
	}
	b, end, err := c.r.ReadLine()
	if err == textline.ErrLineTooLong {
		if _, _, err := c.r.SkipLine(); err != nil {
			return "", false, false
		}
		return "", false, c.fail("", "authentication line too long")
	}
	if err != nil || end == textline.EndNone {
		return "", false, false
	}
	return string(b), true, true
}

// decodeSASL decodes a base64 SASL message; "=" is the empty response
// (RFC 5034 §4). The decoding is strict: no stray characters, padding only at
// the end.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

func (c *conn) cmdList(cmd Command, uidl bool) bool {
	name := "LIST"
	if uidl {
		name = "UIDL"
	}
	item := func(i int) string {
		if uidl {
			return strconv.Itoa(i+1) + " " + c.msgs[i].UID
		}
		return strconv.Itoa(i+1) + " " + strconv.FormatInt(c.msgs[i].Size, 10)
	}
	switch len(cmd.Args) {
	case 0:
		if uidl {
			c.reply(true, "", "unique-id listing follows")
		} else {
			c.reply(true, "", c.summary())
		}
		for i := range c.msgs {
			if !c.deleted[i] {
				c.w.WriteString(item(i))
				c.w.WriteString("\r\n")
			}
		}
		c.w.WriteString(".\r\n")
	case 1:
		i, ok := c.message(cmd.Args[0])
		if ok {
			c.reply(true, "", item(i))
		}
	default:
		return c.fail("", "usage: "+name+" [msg]")
	}
	return true
}

// cmdRetr sends a message (lines < 0) or its header and first lines lines
// (TOP), streaming it through the dot-stuffer.
func (c *conn) cmdRetr(arg string, lines int) bool {
	i, ok := c.message(arg)
	if !ok {
		return true
	}
	rc, err := c.drop.Open(c.ctx, i)
	if err != nil {
		c.replyErr(err, "reading the message")
		return true
	}
	defer rc.Close()
	if lines < 0 {
		c.reply(true, "", strconv.FormatInt(c.msgs[i].Size, 10)+" octets")
	} else {
		c.reply(true, "", "top of message follows")
	}
	dw := newDotWriter(c.w)
	var dst io.Writer = dw
	if lines >= 0 {
		dst = newTopWriter(dw, lines)
	}
	bp := bufPool.Get().(*[]byte)
	// Hide any WriterTo of rc (as *os.File's) so the copy uses our buffer.
	_, err = io.CopyBuffer(dst, struct{ io.Reader }{rc}, *bp)
	bufPool.Put(bp)
	if err != nil && err != errTopDone {
		// The response is half sent; the only honest way out is to drop the
		// connection (nothing is deleted).
		c.log.Error("pop3: sending message failed", "user", c.user, "msg", i+1, "err", err)
		return false
	}
	if err := dw.Close(); err != nil {
		return false
	}
	return true
}

// validUID checks RFC 1939 §7: a unique-id is 1 to 70 characters in the
// range 0x21 to 0x7E.
func validUID(uid string) bool {
	if len(uid) == 0 || len(uid) > 70 {
		return false
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e {
			return false
		}
	}
	return true
}

// quit ends the session; from TRANSACTION it enters UPDATE (RFC 1939 §6).
func (c *conn) quit() bool {
	if c.state != stateTransaction {
		c.reply(true, "", "bye")
		return false
	}
	drop := c.drop
	c.drop = nil
	var idx []int
	for i, d := range c.deleted {
		if d {
			idx = append(idx, i)
		}
	}
	var err error
	if len(idx) > 0 {
		err = drop.Delete(c.ctx, idx)
	}
	if cerr := drop.Close(); cerr != nil {
		c.log.Warn("pop3: closing maildrop", "user", c.user, "err", cerr)
	}
	if err != nil {
		c.log.Error("pop3: deleting messages", "user", c.user, "err", err)
		// RFC 1939 §6: "-ERR some deleted messages not removed".
		c.reply(false, CodeSysTemp, "some deleted messages not removed")
		return false
	}
	left := len(c.msgs) - c.ndel
	if left == 0 {
		c.reply(true, "", "bye (maildrop empty)")
	} else {
		c.reply(true, "", fmt.Sprintf("bye (%d messages left)", left))
	}
	return false
}
