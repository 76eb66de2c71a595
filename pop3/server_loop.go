package pop3

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/mailwire/mailwire/internal/textline"
)

func (c *Conn) serve() {
	defer c.srv.untrackConn(c)
	defer c.closeLinger()
	defer c.cancel()
	if err := netutil.ProxyHandshake(c.nc); err != nil {
		c.log.Info("connection refused: PROXY header", "remote", c.nc.RemoteAddr().String(), "err", err)
		return
	}
	c.log = c.log.With("remote", c.nc.RemoteAddr().String())
	release, ok := c.srv.clients.Acquire(c.nc.RemoteAddr())
	if !ok {
		c.log.Info("connection refused: too many connections from the client")
		if _, isTLS := c.nc.(*tls.Conn); !isTLS {
			// Without a reply on implicit TLS, where one would need a
			// handshake.
			c.reply(false, CodeSysTemp, "too many connections from your address, try later")
			c.flush()
		}
		return
	}
	defer release()
	defer c.closeSession()
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic serving connection", "panic", v, "stack", string(debug.Stack()))
		}
	}()

	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := c.handshake(tc); err != nil {
			c.log.Debug("TLS handshake failed", "err", err)
			return
		}
	}
	c.log.Debug("connection opened")
	session, err := c.srv.Backend.NewSession(c)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			c.reply(false, pe.Code, pe.Message)
		} else {
			c.log.Error("NewSession", "err", err)
			c.reply(false, CodeSysTemp, "service not available, try again later")
		}
		c.flush()
		return
	}
	c.session = session
	greeting := c.srv.hostname() + " POP3 server ready"
	if _, ok := session.(APOPSession); ok {
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

// closeSession closes the maildrop, if one is open, and then the Session;
// a panic in either must not take the server down.
func (c *Conn) closeSession() {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic closing the session", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	if c.drop != nil {
		// Any way out other than QUIT: nothing is deleted (RFC 1939 §6).
		drop := c.drop
		c.drop = nil
		if err := drop.Close(); err != nil {
			c.log.Warn("closing the maildrop", "err", err)
		}
	}
	if c.session != nil {
		if err := c.session.Close(); err != nil {
			c.log.Error("session close", "err", err)
		}
	}
	c.log.Debug("connection closed", "errors", c.errors)
}

func (c *Conn) handshake(tc *tls.Conn) error {
	if err := netutil.Handshake(c.ctx, tc, c.srv.limits().TLSHandshakeTimeout); err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.tls = &st
	return nil
}

// armRead sets the autologout deadline for the next read, unless the server
// is shutting down. Under c.mu, so that Shutdown's kick is never overridden.
func (c *Conn) armRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv.shuttingDown() {
		return ErrServerClosed
	}
	return c.nc.SetReadDeadline(limits.Deadline(c.srv.limits().ReadTimeout))
}

func (c *Conn) readCommand() (Command, error) {
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
		c.r.SetMax(sasl.MaxLine - len(head))
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

// lineBreaks turns CR and LF in a response text, which a Session's *Error
// might carry, into spaces: they would end the response early and let the
// rest pass for another.
var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ")

// reply writes a single-line response.
func (c *Conn) reply(ok bool, code, text string) {
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

func (c *Conn) flush() error { return c.w.Flush() }

// fail answers a bad command with -ERR and reports whether the session may
// go on (MaxErrors).
func (c *Conn) fail(code, text string) bool {
	c.errors++
	if max := c.srv.limits().MaxErrors; max > 0 && c.errors >= max {
		c.reply(false, code, text+"; too many errors, closing connection")
		c.flush()
		return false
	}
	c.reply(false, code, text)
	return true
}

// replyErr reports a backend error.
func (c *Conn) replyErr(err error, what string) {
	code, text := c.errReply(err, what)
	c.reply(false, code, text)
}

// errReply chooses the response code and text for a backend error: its own
// for an *Error, [AUTH] for auth.ErrAuthFailed, and [SYS/TEMP] with a generic
// text for anything else, whose details go to the log only.
func (c *Conn) errReply(err error, what string) (code, text string) {
	var pe *Error
	switch {
	case errors.As(err, &pe):
		return pe.Code, pe.Message
	case errors.Is(err, auth.ErrAuthFailed):
		return CodeAuth, "authentication failed"
	}
	c.log.Error("backend error", "op", what, "err", err)
	return CodeSysTemp, what + " failed, try again later"
}

// handle runs one command and reports whether the session goes on.
func (c *Conn) handle(cmd Command) bool {
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

func (c *Conn) capa() {
	c.reply(true, "", "capability list follows")
	w := c.w
	w.WriteString("TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n")
	if c.passwordsOffered() {
		w.WriteString("USER\r\n")
	}
	if c.authAllowed() {
		if mechs := c.session.SASLMechanisms(); len(mechs) > 0 {
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
