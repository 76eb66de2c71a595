package imapserver

import (
	"crypto/tls"
	"errors"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/netutil"
)

// errClose ends the connection after the responses written so far.
var errClose = errors.New("imapserver: closing the connection")

func (c *Conn) serve() {
	defer c.srv.conns.Remove(tracked{c})
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
			c.untagged("BYE [UNAVAILABLE] too many connections from your address, try later")
			c.bw.Flush()
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
		var ie *imap.Error
		if errors.As(err, &ie) {
			c.status("", imap.StatusBYE, ie.Code, ie.Text)
		} else {
			c.log.Error("NewSession", "err", err)
			c.status("", imap.StatusBYE, code(imap.CodeUnavailable), "service not available, try again later")
		}
		c.bw.Flush()
		return
	}
	c.session = session
	// RFC 3501 §7.1.1: the greeting, with the capabilities as a response
	// code so that clients need not ask.
	c.status("", imap.StatusOK, &imap.ResponseCode{Code: imap.CodeCapability, Caps: c.capabilities()}, c.srv.hostname()+" IMAP4rev1 server ready")
	c.bw.Flush()

	for {
		err := c.command()
		if err == nil && c.enc.Err() != nil {
			err = c.enc.Err()
		}
		if err != nil {
			if err != errClose {
				c.log.Debug("connection ended", "err", err)
			}
			c.bw.Flush()
			return
		}
		// Pipelining (RFC 3501 §5.5): answer a batch of commands with as
		// few writes as possible.
		if c.br.Buffered() == 0 {
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
	}
}

// closeSession closes the selected mailbox, if any, and the Session; a
// panic in either must not take the server down.
func (c *Conn) closeSession() {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("panic closing the session", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	c.unselect()
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

// timeout is the autologout timer of the current state (RFC 3501 §5.4).
func (c *Conn) timeout() time.Duration {
	if c.state == stateNotAuthenticated {
		return c.srv.limits().LoginTimeout
	}
	return c.srv.limits().IdleTimeout
}

// wait arms the autologout timer and marks the connection as one Shutdown
// may end, unless the server is shutting down already. Under c.mu, so that
// Shutdown's kick is never overridden.
func (c *Conn) wait(waiting bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiting = waiting
	if waiting && c.srv.shuttingDown() {
		return ErrServerClosed
	}
	return c.nc.SetReadDeadline(limits.Deadline(c.timeout()))
}

// waitErr answers the end of a wait: "* BYE" for Shutdown and for the
// autologout timer; nothing when the client went away.
func (c *Conn) waitErr(err error) error {
	if c.srv.shuttingDown() {
		c.status("", imap.StatusBYE, nil, "server shutting down")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.status("", imap.StatusBYE, nil, "autologout: idle for too long")
	}
	return errClose
}

// command reads and runs one command.
func (c *Conn) command() error {
	if err := c.wait(true); err != nil {
		return c.waitErr(err)
	}
	// The first byte of a command ends the wait: from then on Shutdown
	// lets the command finish.
	if _, err := c.br.Peek(1); err != nil {
		return c.waitErr(err)
	}
	if err := c.wait(false); err != nil {
		return err
	}
	cmd, err := imapwire.ReadCommand(c.dec)
	if err != nil {
		return c.syntax(cmd.Tag, err)
	}
	h, ok := commands[cmd.Name]
	if !ok || (cmd.UID && !h.uid) {
		return c.reject(cmd.Tag, "unknown command")
	}
	if !h.states[c.state] {
		switch c.state {
		case stateNotAuthenticated:
			return c.reject(cmd.Tag, "log in first")
		case stateAuthenticated:
			return c.reject(cmd.Tag, "select a mailbox first")
		}
		return c.reject(cmd.Tag, cmd.Name+" not allowed now")
	}
	err = h.run(c, cmd)
	if err != nil && isSyntax(err) {
		return c.syntax(cmd.Tag, err)
	}
	return err
}

// isSyntax reports whether err is the decoder's complaint about the
// client's input rather than a failed read.
func isSyntax(err error) bool {
	var pe *imapwire.ParseError
	var se *imap.SyntaxError
	var le *imapwire.LimitError
	return errors.As(err, &pe) || errors.As(err, &se) || errors.As(err, &le) || errors.Is(err, errArgs)
}

// errArgs is a command's argument the grammar accepts but the command does
// not.
var errArgs = errors.New("invalid arguments")

// syntax answers a command that did not parse with BAD, skips the rest of
// it and reads on; I/O errors end the connection.
func (c *Conn) syntax(tag string, err error) error {
	if !isSyntax(err) {
		return err
	}
	var le *imapwire.LimitError
	if errors.As(err, &le) {
		if le.InSync {
			// A synchronising literal refused before it was sent: the
			// decoder stands at the next command (RFC 7889 §4 TOOBIG).
			c.dec.Reset()
			return c.fail(tag, imap.StatusNO, code(imap.CodeTooBig), "literal too large")
		}
		// The rest of the command may still be coming: stop here.
		c.status(tagOr(tag), imap.StatusBAD, code(imap.CodeLimit), "command too large")
		return errClose
	}
	if derr := c.dec.DiscardLine(); derr != nil && !isSyntax(derr) {
		return derr
	}
	c.dec.Reset()
	msg := err.Error()
	if errors.Is(err, errArgs) {
		msg = strings.TrimPrefix(msg, errArgs.Error()+": ")
	}
	return c.fail(tag, imap.StatusBAD, nil, "syntax error: "+msg)
}

// reject answers a command refused before its arguments were read.
func (c *Conn) reject(tag, text string) error {
	if err := c.dec.DiscardLine(); err != nil && !isSyntax(err) {
		return err
	}
	c.dec.Reset()
	return c.fail(tag, imap.StatusBAD, nil, text)
}

// fail answers a bad command and closes the connection after MaxErrors.
func (c *Conn) fail(tag string, typ imap.StatusType, rc *imap.ResponseCode, text string) error {
	c.errors++
	c.status(tagOr(tag), typ, rc, text)
	if max := c.srv.limits().MaxErrors; max > 0 && c.errors >= max {
		c.status("", imap.StatusBYE, nil, "too many errors, closing connection")
		return errClose
	}
	return nil
}

func tagOr(tag string) string {
	if tag == "" {
		return "*"
	}
	return tag
}

func code(c imap.Code) *imap.ResponseCode { return &imap.ResponseCode{Code: c} }

// lineBreaks turns CR, LF and NUL in a response text, which a Session's
// *imap.Error might carry, into spaces.
var lineBreaks = strings.NewReplacer("\r", " ", "\n", " ", "\x00", " ")

// status writes a status response; tag "" (or "*") is untagged.
func (c *Conn) status(tag string, typ imap.StatusType, rc *imap.ResponseCode, text string) {
	if tag == "*" {
		tag = ""
	}
	if strings.ContainsAny(text, "\r\n\x00") {
		text = lineBreaks.Replace(text)
	}
	c.enc.StatusResponse(&imap.StatusResponse{Tag: tag, Type: typ, Code: rc, Text: text})
}

// untagged writes "* " line CRLF; line is built by the server from
// checked parts.
func (c *Conn) untagged(line string) {
	c.bw.WriteString("* ")
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
}

// ok completes a command: first the untagged updates of the selected
// mailbox that the command allows (RFC 3501 §7.4.1), then the tagged OK.
func (c *Conn) ok(tag string, cmd imapwire.Command, rc *imap.ResponseCode, text string) error {
	if c.state == stateSelected {
		if err := c.update(expungeAllowed(cmd)); err != nil {
			c.log.Error("backend error", "cmd", cmd.Name, "err", err)
		}
	}
	c.status(tag, imap.StatusOK, rc, text)
	return nil
}

// no answers a backend error: its own reply for an *imap.Error,
// [AUTHENTICATIONFAILED] for auth.ErrAuthFailed, and NO [UNAVAILABLE] with
// the detail only in the log for anything else.
func (c *Conn) no(tag string, cmd imapwire.Command, err error) error {
	var ie *imap.Error
	switch {
	case errors.As(err, &ie):
		typ := ie.Type
		if typ != imap.StatusBAD {
			typ = imap.StatusNO
		}
		c.status(tag, typ, ie.Code, ie.Text)
	case errors.Is(err, auth.ErrAuthFailed):
		c.status(tag, imap.StatusNO, code(imap.CodeAuthenticationFailed), "authentication failed")
	default:
		c.log.Error("backend error", "cmd", cmd.Name, "err", err)
		c.status(tag, imap.StatusNO, code(imap.CodeUnavailable), strings.ToLower(cmd.Name)+" failed, try again later")
	}
	return nil
}

// continueLiteral is the decoder's hook before a synchronising literal:
// the continuation request of RFC 3501 §7.5.
func (c *Conn) continueLiteral(size int64) error {
	c.bw.WriteString("+ Ready for literal data\r\n")
	return c.bw.Flush()
}
