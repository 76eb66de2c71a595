package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/sasl"
)

// authAllowed: RFC 3501 §6.2.3, RFC 8314 — no password on an unprotected
// connection unless the server is configured to allow it.
func (c *Conn) authAllowed() bool { return c.tls != nil || c.srv.AllowInsecureAuth }

// refuseInsecure answers LOGIN or AUTHENTICATE without TLS (RFC 5530
// PRIVACYREQUIRED).
func (c *Conn) refuseInsecure(tag string) error {
	text := "cleartext authentication not allowed"
	if c.srv.TLSConfig != nil {
		text += ", use STARTTLS first"
	}
	return c.fail(tag, imap.StatusNO, code(imap.CodePrivacyRequired), text)
}

// cmdLogin checks LOGIN's user name and password as the PLAIN exchange
// they amount to (RFC 4616 §2), so that one credential store serves every
// login.
func (c *Conn) cmdLogin(cmd imapwire.Command) error {
	user, pass, err := imapwire.ReadLoginArgs(c.dec)
	if err != nil {
		return err
	}
	if !c.authAllowed() {
		return c.refuseInsecure(cmd.Tag)
	}
	if !slices.ContainsFunc(c.session.SASLMechanisms(), func(m string) bool { return strings.EqualFold(m, "PLAIN") }) {
		return c.fail(cmd.Tag, imap.StatusNO, code(imap.CodeCannot), "LOGIN not supported, use AUTHENTICATE")
	}
	if strings.ContainsRune(user, 0) || strings.ContainsRune(pass, 0) {
		return c.authFailed(cmd.Tag, auth.ErrAuthFailed)
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	return c.authenticate(cmd, "PLAIN", ir, true)
}

// cmdAuthenticate runs AUTHENTICATE (RFC 3501 §6.2.2) with SASL-IR's
// initial response (RFC 4959).
func (c *Conn) cmdAuthenticate(cmd imapwire.Command) error {
	mech, ir, err := imapwire.ReadAuthenticateArgs(c.dec)
	if err != nil {
		return err
	}
	if !c.authAllowed() {
		return c.refuseInsecure(cmd.Tag)
	}
	initial, has := "", ir != nil
	if has {
		initial = *ir
		if initial == "" {
			initial = "="
		}
	}
	return c.authenticate(cmd, mech, initial, has)
}

// authenticate runs one SASL exchange through the shared implementation
// and answers it.
func (c *Conn) authenticate(cmd imapwire.Command, mech, ir string, hasIR bool) error {
	if c.srv.clients.AuthBlocked(c.RemoteAddr()) {
		c.log.Info("login refused: too many failed logins from the client", "cmd", cmd.Name)
		return c.fail(cmd.Tag, imap.StatusNO, code(imap.CodeUnavailable), "too many failed logins from your address, try later")
	}
	x := sasl.Exchange{
		Hook:          passwordHook{c.session, cmd.Name == "LOGIN", c.srv.hostname()},
		Transport:     authTransport{c},
		Secure:        c.tls != nil,
		AllowInsecure: c.srv.AllowInsecureAuth,
		Logger:        c.log.With("cmd", cmd.Name),
	}
	id, err := x.Run(c.ctx, mech, ir, hasIR)
	var ie *imap.Error
	switch o := sasl.Classify(err); {
	case o == sasl.OK:
		c.ident = id
		c.state = stateAuthenticated
		c.log = c.log.With("user", id)
		// RFC 3501 §6.2.2: the capabilities may change; say them.
		c.status(cmd.Tag, imap.StatusOK, &imap.ResponseCode{Code: imap.CodeCapability, Caps: c.capabilities()}, cmd.Name+" completed")
		return nil
	case errors.As(err, &ie) && !errors.Is(err, auth.ErrAuthFailed):
		return c.no(cmd.Tag, cmd, err)
	case o == sasl.Closed:
		return errClose
	case o == sasl.Insecure:
		return c.refuseInsecure(cmd.Tag)
	case o == sasl.NoMechanism:
		return c.fail(cmd.Tag, imap.StatusNO, code(imap.CodeCannot), "unsupported authentication mechanism")
	case o == sasl.Cancelled:
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "authentication cancelled")
	case o == sasl.TooLong:
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "authentication line too long")
	case o == sasl.Syntax:
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "malformed authentication response")
	case o == sasl.Failed:
		return c.authFailed(cmd.Tag, err)
	}
	c.status(cmd.Tag, imap.StatusNO, code(imap.CodeUnavailable), "authentication failed, try again later")
	return nil
}

// authFailed answers a failed login, closing the connection after
// MaxAuthFailures.
func (c *Conn) authFailed(tag string, err error) error {
	c.authFails++
	if errors.Is(err, auth.ErrAuthFailed) {
		c.srv.clients.AuthFailed(c.RemoteAddr())
	}
	c.status(tag, imap.StatusNO, code(imap.CodeAuthenticationFailed), "authentication failed")
	if max := c.srv.limits().MaxAuthFailures; max > 0 && c.authFails >= max {
		c.status("", imap.StatusBYE, nil, "too many failed logins, closing connection")
		return errClose
	}
	return nil
}

// passwordHook lets LOGIN run PLAIN whether or not AUTHENTICATE offers it.
type passwordHook struct {
	Session
	password bool
	host     string
}

func (h passwordHook) SASLMechanisms() []string {
	if h.password {
		return []string{"PLAIN"}
	}
	return h.Session.SASLMechanisms()
}

// NewSASLServer gives a CRAM-MD5 server without a Hostname the Server's,
// which its challenge names (RFC 2195 §2).
func (h passwordHook) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	srv, err := h.Session.NewSASLServer(ctx, mech)
	if cs, ok := srv.(*auth.CRAMMD5Server); ok && cs.Hostname == "" {
		cs.Hostname = h.host
	}
	return srv, err
}

// authTransport frames SASL challenges as continuation requests, "+ "
// and base64 (RFC 3501 §6.2.2).
type authTransport struct{ c *Conn }

func (t authTransport) Challenge(data []byte) (string, error) {
	c := t.c
	c.bw.WriteString("+ " + base64.StdEncoding.EncodeToString(data) + "\r\n")
	if err := c.bw.Flush(); err != nil {
		return "", sasl.ConnError(err)
	}
	if err := c.wait(false); err != nil {
		return "", sasl.ConnError(err)
	}
	line, err := c.readLine(sasl.MaxLine)
	if err == errLineTooLong {
		return "", sasl.ErrLineTooLong
	}
	if err != nil {
		return "", sasl.ConnError(err)
	}
	return string(line), nil
}

var errLineTooLong = errors.New("line too long")

// readLine reads one line of at most max octets without its line end;
// a longer line is read through and reported as errLineTooLong.
func (c *Conn) readLine(max int) ([]byte, error) {
	var line []byte
	long := false
	for {
		chunk, err := c.br.ReadSlice('\n')
		if err != nil && err != bufioErrBufferFull {
			return nil, err
		}
		if !long {
			if len(line)+len(chunk) > max+2 {
				long = true
				line = nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == nil {
			break
		}
	}
	if long {
		return nil, errLineTooLong
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > max {
		return nil, errLineTooLong
	}
	return line, nil
}
