package smtp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"

	"github.com/mailwire/mailwire/internal/netutil"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/mailwire/mailwire/internal/textline"
)

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
	release, ok := s.clients.Acquire(c.nc.RemoteAddr())
	if !ok {
		c.refuseClient()
		s.conns.Remove(tracked{c})
		return
	}
	defer release()
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

// refuseClient turns away a connection from a client that holds
// Limits.MaxConnectionsPerClient already (RFC 5321 §3.8: 421), without a
// reply on implicit TLS, where one would need a handshake.
func (c *Conn) refuseClient() {
	c.logf(slog.LevelInfo, "connection refused: too many connections from the client")
	c.mu.Lock()
	c.closed = true
	nc := c.nc
	c.mu.Unlock()
	c.cancel()
	if _, isTLS := nc.(*tls.Conn); isTLS {
		nc.Close()
		return
	}
	c.reply(421, EnhancedCode{4, 7, 0}, "%s Too many connections from your address, try again later", c.srv.domain())
	if c.flush() != nil {
		nc.Close()
		return
	}
	netutil.CloseLinger(nc)
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
		c.logf(slog.LevelError, "session close", "err", err)
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
		c.hello(verb, arg)
	case "LHLO":
		if !c.srv.LMTP {
			c.reply(500, EnhancedCode{5, 5, 1}, "Command not recognized")
			return
		}
		c.hello(verb, arg)
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
