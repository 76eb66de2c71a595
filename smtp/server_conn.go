package smtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/sasl"
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

// Hostname returns the name the client gave with EHLO, HELO or LHLO, "" before.
func (c *Conn) Hostname() string { return c.helo }

// Protocol returns the keyword that names the protocol in the "with"
// clause of a Received field: SMTP after HELO, ESMTP after EHLO, LMTP, with
// S when the connection has TLS and A when the client authenticated
// (RFC 3848), and a UTF8 prefix when the current transaction's MAIL had
// SMTPUTF8 (RFC 6531 §4.3). It is "" before the client's greeting.
func (c *Conn) Protocol() string {
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
	w.c.nc.SetWriteDeadline(deadline(w.c.srv.limits().WriteTimeout))
	return w.c.nc.Write(p)
}

// readDeadline is the deadline for the next read: ReadTimeout from now, but
// no later than the end of the message transfer.
func (c *Conn) readDeadline() time.Time {
	d := deadline(c.srv.limits().ReadTimeout)
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

func (c *Conn) logf(level slog.Level, msg string, args ...any) {
	if l := c.logger(); l != nil {
		if c.ident != "" {
			args = append(args, "user", c.ident)
		}
		l.Log(c.ctx, level, msg, args...)
	}
}

// reply queues a reply; it goes out when the server next waits for input.
func (c *Conn) reply(code int, ec EnhancedCode, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	writeReply(c.bw, code, ec, text)
	if code >= 400 {
		c.errors++
	}
}

// replyErr sends err as a reply: an *Error as it is, anything else as a
// transient local error.
func (c *Conn) replyErr(err error) {
	var e *Error
	if errors.As(err, &e) && e.Code >= 400 && e.Code <= 599 {
		c.reply(e.Code, e.EnhancedCode, "%s", e.Message)
		return
	}
	c.logf(slog.LevelError, "session error", "err", err)
	c.reply(451, EnhancedCode{4, 3, 0}, "Local error in processing, try again later")
}

// tooManyErrors reports whether the client has earned enough error replies to
// be disconnected.
func (c *Conn) tooManyErrors() bool {
	max := c.srv.limits().MaxErrors
	return max > 0 && c.errors >= max
}

func (c *Conn) serve() {
	s := c.srv
	if err := netutil.ProxyHandshake(c.nc); err != nil {
		c.logf(slog.LevelInfo, "connection refused: PROXY header", "err", err)
		c.closeNet()
		s.conns.Remove(tracked{c})
		return
	}
	c.logf(slog.LevelDebug, "connection opened")
	defer func() {
		c.logf(slog.LevelDebug, "connection closed", "errors", c.errors)
		if v := recover(); v != nil {
			c.logf(slog.LevelError, "panic serving connection", "panic", v, "stack", string(debug.Stack()))
		}
		c.mu.Lock()
		c.closed = true
		nc := c.nc
		c.mu.Unlock()
		c.cancel()
		defer func() {
			// After Logout: the last reply (a 421) must reach a client
			// still sending, which may take a while.
			netutil.CloseLinger(nc)
			s.conns.Remove(tracked{c})
		}()
		if c.session != nil {
			c.closeSession()
		}
	}()

	if tc, ok := c.nc.(*tls.Conn); ok {
		// Implicit TLS: finish the handshake so NewSession sees its state.
		if err := netutil.Handshake(c.ctx, tc, s.limits().TLSHandshakeTimeout); err != nil {
			c.logf(slog.LevelDebug, "TLS handshake failed", "err", err)
			return
		}
		c.tlsOK, c.tlsSt = true, tc.ConnectionState()
	}

	session, err := s.Backend.NewSession(c)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			c.reply(e.Code, e.EnhancedCode, "%s", e.Message)
		} else {
			c.logf(slog.LevelError, "NewSession", "err", err)
			c.reply(421, EnhancedCode{4, 3, 2}, "%s Service not available", s.domain())
		}
		c.flush()
		return
	}
	c.session = session
	proto := "ESMTP"
	if s.LMTP {
		proto = "LMTP"
	}
	// RFC 5321 §4.2: no enhanced code in the greeting (RFC 2034 §3).
	c.reply(220, NoEnhancedCode, "%s %s Service ready", s.domain(), proto)

	for !c.quit {
		if c.pending != nil {
			line := *c.pending
			c.pending = nil
			c.handle(line)
		} else {
			line, st := c.readCommand()
			if st == readClose {
				break
			}
			if st == readLine {
				c.handle(line)
			}
		}
		if c.tooManyErrors() && !c.quit {
			c.reply(421, EnhancedCode{4, 7, 0}, "%s Too many errors, closing connection", s.domain())
			break
		}
	}
	c.flush()
}

// closeSession calls the Session's Close; a panic there, as in any Session
// method, must not take the server down.
func (c *Conn) closeSession() {
	defer func() {
		if v := recover(); v != nil {
			c.logf(slog.LevelError, "panic in Session.Close", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	if err := c.session.Close(); err != nil {
		c.logf(slog.LevelWarn, "session close", "err", err)
	}
}

type readState uint8

const (
	readLine    readState = iota // a command line was read
	readReplied                  // a malformed line was read and answered
	readClose                    // the connection must end; any reply is queued
)

// readCommand reads the next command line.
func (c *Conn) readCommand() (string, readState) {
	s := c.srv
	inTx := c.from != nil
	c.mu.Lock()
	if c.aborting || s.shuttingDown() && !inTx {
		c.mu.Unlock()
		c.reply(421, EnhancedCode{4, 3, 2}, "%s Service shutting down, closing connection", s.domain())
		return "", readClose
	}
	c.idle = !inTx
	c.nc.SetReadDeadline(c.readDeadline())
	c.mu.Unlock()

	line, end, err := c.tr.ReadLine()
	var long []byte
	if errors.Is(err, textline.ErrLineTooLong) && len(line) >= 5 && strings.EqualFold(string(line[:5]), "AUTH ") {
		// RFC 4954 §4: an AUTH command with its initial response may be
		// 12288 octets long.
		long = append(long, line...)
		c.tr.SetMax(sasl.MaxLine - len(long))
		line, end, err = c.tr.ReadLine()
		c.tr.SetMax(s.limits().MaxLineLength)
		long = append(long, line...)
	}

	c.mu.Lock()
	c.idle = false
	c.mu.Unlock()
	switch {
	case errors.Is(err, textline.ErrLineTooLong):
		if _, _, err := c.tr.SkipLine(); err != nil {
			c.readFailed(err)
			return "", readClose
		}
		if long != nil {
			c.reply(500, EnhancedCode{5, 5, 6}, "Authentication Exchange line is too long")
			return "", readReplied
		}
		// RFC 5321 §4.5.3.1.10: 500 Line too long.
		c.reply(500, EnhancedCode{5, 5, 2}, "Line too long")
		return "", readReplied
	case err != nil:
		c.readFailed(err)
		return "", readClose
	case end == textline.EndNone:
		return "", readClose // the client closed mid-line
	case end == textline.EndCR:
		// A bare CR is not a line end in SMTP (RFC 5321 §2.3.8).
		c.reply(500, EnhancedCode{5, 5, 2}, "Bare CR in command")
		return "", readReplied
	}
	// A command ending in a bare LF is accepted: it cannot end message data,
	// and some tools send it.
	if long != nil {
		return string(long), readLine
	}
	return string(line), readLine
}

// readFailed handles a read error; it returns false (end the connection),
// having queued a reply when one is due.
func (c *Conn) readFailed(err error) bool {
	c.mu.Lock()
	aborting := c.aborting
	c.mu.Unlock()
	var ne net.Error
	if aborting {
		c.reply(421, EnhancedCode{4, 3, 2}, "%s Service shutting down, closing connection", c.srv.domain())
	} else if errors.As(err, &ne) && ne.Timeout() {
		if c.srv.shuttingDown() && c.from == nil {
			c.reply(421, EnhancedCode{4, 3, 2}, "%s Service shutting down, closing connection", c.srv.domain())
		} else {
			// RFC 5321 §4.5.3.2: the server may close after a timeout.
			c.reply(421, EnhancedCode{4, 4, 2}, "%s Timeout exceeded, closing connection", c.srv.domain())
		}
	}
	return false
}

func (c *Conn) handle(line string) {
	if strings.IndexByte(line, 0) >= 0 {
		c.reply(500, EnhancedCode{5, 5, 2}, "NUL byte in command")
		return
	}
	verb, arg := parseCommand(line)
	switch verb {
	case "NOOP", "RSET", "VRFY", "EXPN", "HELP", "EHLO", "HELO", "LHLO":
		c.junk++
		if max := c.srv.limits().MaxJunkCommands; max > 0 && c.junk > max {
			c.errors++
		}
	}
	if c.bdatFail && verb != "BDAT" && verb != "RSET" && verb != "QUIT" && verb != "NOOP" {
		// RFC 3030 §2: after a failed BDAT the state is indeterminate until RSET.
		c.bdatFail = false
	}
	switch verb {
	case "HELO", "EHLO":
		if c.srv.LMTP {
			c.reply(500, EnhancedCode{5, 5, 1}, "This is an LMTP server: use LHLO")
			return
		}
		c.hello(verb == "EHLO", arg)
	case "LHLO":
		if !c.srv.LMTP {
			c.reply(500, EnhancedCode{5, 5, 1}, "Command not recognized")
			return
		}
		c.hello(true, arg)
	case "MAIL":
		c.mail(arg)
	case "RCPT":
		c.rcpt(arg)
	case "DATA":
		c.dataCmd(arg)
	case "BDAT":
		c.bdatCmd(arg)
	case "RSET":
		if arg != "" {
			c.reply(501, EnhancedCode{5, 5, 4}, "RSET takes no argument")
			return
		}
		c.reset()
		c.bdatFail = false
		c.reply(250, EnhancedCode{2, 0, 0}, "Ok")
	case "NOOP":
		c.reply(250, EnhancedCode{2, 0, 0}, "Ok")
	case "QUIT":
		c.reply(221, EnhancedCode{2, 0, 0}, "%s Service closing transmission channel", c.srv.domain())
		c.quit = true
	case "VRFY", "EXPN":
		if arg == "" {
			c.reply(501, EnhancedCode{5, 5, 4}, "%s needs an argument", verb)
			return
		}
		// RFC 5321 §3.5.3: 252 when the server will not verify.
		c.reply(252, EnhancedCode{2, 5, 0}, "Cannot VRFY user, but will accept message and attempt delivery")
	case "HELP":
		c.reply(214, EnhancedCode{2, 0, 0}, "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH")
	case "STARTTLS":
		c.startTLS(arg)
	case "AUTH":
		c.auth(arg)
	case "":
		c.reply(500, EnhancedCode{5, 5, 2}, "Empty command")
	default:
		c.reply(500, EnhancedCode{5, 5, 1}, "Command not recognized")
	}
}

// reset ends the current transaction, telling the Session if one was open.
func (c *Conn) reset() {
	had := c.from != nil
	c.from, c.mailOpts, c.rcpts, c.bdat = nil, nil, nil, false
	if had {
		c.session.Reset(c.ctx)
	}
}

// helloVerb names the greeting command for replies.
func (c *Conn) helloVerb() string {
	if c.srv.LMTP {
		return "LHLO"
	}
	return "EHLO"
}

func (c *Conn) hello(ehlo bool, arg string) {
	if arg == "" || strings.ContainsAny(arg, " \t") && !ehlo {
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: %s hostname", c.helloVerb())
		return
	}
	name, _, _ := strings.Cut(arg, " ")
	for i := 0; i < len(name); i++ {
		// The name ends up in Conn.Hostname and, through Sessions, in
		// Received: fields and logs: no control characters.
		if b := name[i]; b < '!' || b == 0x7f {
			c.reply(501, EnhancedCode{5, 5, 2}, "Control character in %s hostname", c.helloVerb())
			return
		}
	}
	c.reset()
	c.helo, c.ehlo = name, ehlo
	s := c.srv
	if !ehlo {
		c.reply(250, NoEnhancedCode, "%s", s.domain())
		return
	}
	caps := []string{s.domain() + " greets " + name, "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"}
	if max := s.limits().MaxMessageBytes; max > 0 {
		caps = append(caps, "SIZE "+strconv.FormatInt(max, 10))
	} else {
		caps = append(caps, "SIZE")
	}
	caps = append(caps, "DSN", "CHUNKING", "BINARYMIME")
	if s.TLSConfig != nil && !c.tlsOK {
		caps = append(caps, "STARTTLS")
	}
	if mechs := c.authMechanisms(); len(mechs) > 0 {
		caps = append(caps, "AUTH "+strings.Join(mechs, " "))
	}
	caps = append(caps, "HELP")
	// RFC 2034 §3: no enhanced codes in the EHLO reply.
	c.reply(250, NoEnhancedCode, "%s", strings.Join(caps, "\n"))
}

// authMechanisms returns the mechanisms to offer now, or nil.
func (c *Conn) authMechanisms() []string {
	as, ok := c.session.(AuthSession)
	if !ok || c.ident != "" || (!c.tlsOK && !c.srv.AllowInsecureAuth) {
		return nil
	}
	return as.SASLMechanisms()
}

func (c *Conn) mail(arg string) {
	if c.helo == "" {
		c.reply(503, EnhancedCode{5, 5, 1}, "Send %s first", c.helloVerb())
		return
	}
	if c.from != nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "Nested MAIL command")
		return
	}
	from, opts, err := parseMailArg(arg)
	if err != nil {
		c.replyParamErr(err, EnhancedCode{5, 1, 7}, 550)
		return
	}
	if opts.UTF8 && hasNonASCII(arg) && !c.ehlo {
		c.reply(555, EnhancedCode{5, 5, 4}, "SMTPUTF8 needs EHLO")
		return
	}
	// RFC 1870 §6.1: refuse early a message announced larger than the limit.
	if max := c.srv.limits().MaxMessageBytes; max > 0 && opts.Size > max {
		c.reply(552, EnhancedCode{5, 3, 4}, "Message size exceeds fixed maximum message size")
		return
	}
	if err := c.session.Mail(c.ctx, from, opts); err != nil {
		c.logf(slog.LevelInfo, "refused", "cmd", "MAIL", "from", from.String(), "err", err)
		c.replyErr(err)
		return
	}
	c.from, c.mailOpts = &from, opts
	c.reply(250, EnhancedCode{2, 1, 0}, "Ok")
}

// replyParamErr answers a MAIL or RCPT parse error: 555 for an unknown
// parameter (RFC 5321 §4.1.1.11), 501 otherwise, with the address code for a
// bad path, and nonASCII, with 5.6.7, for a UTF-8 path without SMTPUTF8 (RFC
// 6531 §3.5).
func (c *Conn) replyParamErr(err error, pathCode EnhancedCode, nonASCII int) {
	switch {
	case errors.Is(err, errNonASCII):
		c.reply(nonASCII, EnhancedCode{5, 6, 7}, "Non-ASCII addresses not permitted without SMTPUTF8")
	case errors.Is(err, errUnknownParam):
		c.reply(555, EnhancedCode{5, 5, 4}, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	case errors.Is(err, ErrPathSyntax):
		c.reply(501, pathCode, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	default:
		c.reply(501, EnhancedCode{5, 5, 4}, "%s", strings.TrimPrefix(err.Error(), "smtp: "))
	}
}

func (c *Conn) rcpt(arg string) {
	if c.from == nil {
		c.reply(503, EnhancedCode{5, 5, 1}, "Send MAIL first")
		return
	}
	if c.bdat {
		c.reply(503, EnhancedCode{5, 5, 1}, "RCPT after BDAT")
		return
	}
	if len(c.rcpts) >= c.srv.limits().MaxRecipients {
		// RFC 5321 §4.5.3.1.10: 452 too many recipients; not counted as an
		// error, the client sends the rest in another transaction.
		c.reply(452, EnhancedCode{4, 5, 3}, "Too many recipients")
		c.errors--
		return
	}
	to, opts, err := parseRcptArg(arg, c.mailOpts.UTF8)
	if err != nil {
		c.replyParamErr(err, EnhancedCode{5, 1, 3}, 553)
		return
	}
	if err := c.session.Rcpt(c.ctx, to, opts); err != nil {
		c.logf(slog.LevelInfo, "refused", "cmd", "RCPT", "to", to.String(), "err", err)
		c.replyErr(err)
		return
	}
	c.rcpts = append(c.rcpts, to)
	c.reply(250, EnhancedCode{2, 1, 5}, "Ok")
}

func (c *Conn) dataCmd(arg string) {
	if arg != "" {
		c.reply(501, EnhancedCode{5, 5, 4}, "DATA takes no argument")
		return
	}
	if !c.readyForData() {
		return
	}
	if c.mailOpts.Body == BodyBinaryMIME {
		// RFC 3030 §3: BINARYMIME messages go with BDAT only.
		c.reply(503, EnhancedCode{5, 5, 1}, "BODY=BINARYMIME requires BDAT")
		return
	}
	c.reply(354, NoEnhancedCode, "End data with <CR><LF>.<CR><LF>")
	if c.tr.Buffered() == 0 {
		// The Session may take its time before reading: the client waits
		// for 354 before sending (RFC 2920 §3.1).
		if err := c.flush(); err != nil {
			c.quit = true
			return
		}
	}
	dr := newDataReader(c.tr, c.srv.BareNewline, c.srv.limits().MaxMessageBytes)
	c.data = true
	c.startData()
	status, err := c.deliver(dr)
	ioErr := dr.drain()
	c.data, c.dataEnd = false, time.Time{}
	if ioErr != nil {
		c.readFailed(ioErr)
		c.quit = true
		return
	}
	switch {
	case dr.over:
		err = errTooLarge
		status = nil
	case dr.bare && c.srv.BareNewline == BareNewlineReject:
		err = errBareNewlineReply
		status = nil
	}
	c.finishMessage(status, err)
}

var (
	// RFC 1870 §6.2 / RFC 3463 X.3.4.
	errTooLarge = &Error{Code: 552, EnhancedCode: EnhancedCode{5, 3, 4}, Message: "Message size exceeds fixed maximum message size"}
	// RFC 5321 §2.3.8, §4.5.2; see BareNewlinePolicy.
	errBareNewlineReply = &Error{Code: 554, EnhancedCode: EnhancedCode{5, 6, 0}, Message: "Message refused: bare CR or LF in data (RFC 5321 section 2.3.8)"}
)

// readyForData checks the sequence for DATA and BDAT.
func (c *Conn) readyForData() bool {
	switch {
	case c.from == nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Send MAIL first")
	case len(c.rcpts) == 0:
		c.reply(503, EnhancedCode{5, 5, 1}, "No valid recipients")
	default:
		return true
	}
	return false
}

// deliver hands the message to the Session; for LMTP it returns the status of
// each recipient when the Session sets them.
func (c *Conn) deliver(r io.Reader) (*lmtpStatus, error) {
	if c.srv.LMTP {
		if ls, ok := c.session.(LMTPSession); ok {
			st := newLMTPStatus(c.rcpts)
			err := ls.LMTPData(c.ctx, r, st)
			return st, err
		}
	}
	return nil, c.session.Data(c.ctx, r)
}

// finishMessage replies to the end of a message and ends the transaction.
func (c *Conn) finishMessage(status *lmtpStatus, err error) {
	if c.srv.LMTP {
		// RFC 2033 §4.2: one reply per accepted recipient, in order.
		for i := range c.rcpts {
			e := err
			if status != nil && status.set[i] {
				e = status.errs[i]
			}
			if e != nil {
				c.replyErr(e)
			} else {
				c.reply(250, EnhancedCode{2, 0, 0}, "<%s> Ok", c.rcpts[i].String())
			}
		}
	} else if err != nil {
		c.replyErr(err)
	} else {
		c.reply(250, EnhancedCode{2, 0, 0}, "Ok: queued")
	}
	if err == nil {
		// A client that delivers mail is not idling: MTAs reusing a
		// connection send RSET before each message.
		c.junk = 0
	}
	c.reset()
}

// lmtpStatus implements StatusCollector.
type lmtpStatus struct {
	mu    sync.Mutex
	rcpts []Mailbox
	errs  []error
	set   []bool
}

func newLMTPStatus(rcpts []Mailbox) *lmtpStatus {
	return &lmtpStatus{rcpts: rcpts, errs: make([]error, len(rcpts)), set: make([]bool, len(rcpts))}
}

func (s *lmtpStatus) SetStatus(rcpt Mailbox, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rcpts {
		if r == rcpt && !s.set[i] {
			s.errs[i], s.set[i] = err, true
			return
		}
	}
}

func (c *Conn) startTLS(arg string) {
	switch {
	case arg != "":
		c.reply(501, EnhancedCode{5, 5, 4}, "STARTTLS takes no argument")
		return
	case c.srv.TLSConfig == nil:
		c.reply(502, EnhancedCode{5, 5, 1}, "STARTTLS not supported")
		return
	case c.tlsOK:
		c.reply(503, EnhancedCode{5, 5, 1}, "TLS already active")
		return
	}
	c.reply(220, EnhancedCode{2, 0, 0}, "Ready to start TLS")
	if err := c.flush(); err != nil {
		c.quit = true
		return
	}
	tc, err := netutil.StartTLS(c.ctx, c.nc, c.srv.tlsConfig(), c.srv.limits().TLSHandshakeTimeout)
	if err != nil {
		c.logf(slog.LevelDebug, "STARTTLS handshake failed", "err", err)
		c.quit = true
		return
	}
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.bw.Reset(connWriter{c})
	// RFC 3207 §4.2: forget everything learnt before TLS, and (the
	// command-injection attack) drop any input that came with STARTTLS.
	c.tr.Reset(connReader{c})
	c.tlsOK, c.tlsSt = true, tc.ConnectionState()
	c.reset()
	c.helo, c.ehlo, c.ident = "", false, ""
}
