package pop3

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"strings"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/mailwire/mailwire/internal/textline"
)

// authAllowed: RFC 2595 §2 and RFC 5034 §4 — no cleartext passwords on an
// unprotected connection unless the server is configured to allow it.
func (c *Conn) authAllowed() bool { return c.tls != nil || c.srv.AllowInsecureAuth }

// passwordsOffered reports whether USER and PASS are offered: they run as a
// PLAIN exchange.
func (c *Conn) passwordsOffered() bool {
	return c.authAllowed() && slices.ContainsFunc(c.session.SASLMechanisms(), func(m string) bool {
		return strings.EqualFold(m, "PLAIN")
	})
}

func (c *Conn) refuseInsecure() bool {
	if c.srv.TLSConfig != nil {
		return c.fail(CodeAuth, "cleartext authentication not allowed, use STLS first")
	}
	return c.fail(CodeAuth, "cleartext authentication not allowed")
}

func (c *Conn) cmdUser(cmd Command) bool {
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	if cmd.Params == "" {
		return c.fail("", "usage: USER name")
	}
	if !c.passwordsOffered() {
		return c.fail("", "USER not supported, use AUTH")
	}
	c.user = cmd.Params
	c.reply(true, "", "send PASS")
	return true
}

// cmdPass checks USER and PASS as the PLAIN exchange they amount to
// (RFC 4616 §2), so one credential store serves every login.
func (c *Conn) cmdPass(cmd Command) bool {
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	if c.user == "" {
		return c.fail("", "send USER first")
	}
	user := c.user
	c.user = ""
	ir := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + cmd.Params))
	return c.authenticate("PLAIN", ir, true, "USER")
}

func (c *Conn) cmdAuth(cmd Command) bool {
	if !c.authAllowed() {
		return c.refuseInsecure()
	}
	if len(cmd.Args) == 0 {
		// The RFC 1734 form some clients still send: list the mechanisms.
		c.reply(true, "", "")
		for _, m := range c.session.SASLMechanisms() {
			c.w.WriteString(m + "\r\n")
		}
		c.w.WriteString(".\r\n")
		return true
	}
	if len(cmd.Args) > 2 {
		return c.fail("", "usage: AUTH mechanism [initial-response]")
	}
	ir := ""
	if len(cmd.Args) == 2 {
		ir = cmd.Args[1]
	}
	return c.authenticate(cmd.Args[0], ir, len(cmd.Args) == 2, "AUTH")
}

// authenticate runs one SASL exchange through the shared implementation and
// answers it; it reports whether the session goes on. USER/PASS passes
// mech PLAIN, which need not be advertised.
func (c *Conn) authenticate(mech, ir string, hasIR bool, verb string) bool {
	if c.authBlocked(verb) {
		return c.refuseBlocked()
	}
	x := sasl.Exchange{
		Hook:          passwordHook{c.session, verb == "USER", c.srv.hostname()},
		Transport:     authTransport{c},
		Secure:        c.tls != nil,
		AllowInsecure: c.srv.AllowInsecureAuth,
		Logger:        c.log.With("cmd", verb),
	}
	id, err := x.Run(c.ctx, mech, ir, hasIR)
	var pe *Error
	switch o := sasl.Classify(err); {
	case o == sasl.OK:
		return c.login(id)
	case errors.As(err, &pe) && !errors.Is(err, auth.ErrAuthFailed):
		c.reply(false, pe.Code, pe.Message)
		return true
	case o == sasl.Closed:
		return false
	case o == sasl.Insecure:
		return c.refuseInsecure()
	case o == sasl.NoMechanism:
		return c.fail("", "unsupported authentication mechanism")
	case o == sasl.Cancelled:
		return c.fail("", "authentication cancelled")
	case o == sasl.TooLong:
		return c.fail("", "authentication line too long")
	case errors.Is(err, sasl.ErrBadBase64):
		return c.fail("", "invalid base64")
	case o == sasl.Syntax:
		return c.fail(CodeAuth, "authentication failed: malformed response")
	case o == sasl.Failed:
		return c.authFailed(err)
	}
	// RFC 3206 §4: [SYS/TEMP]; the exchange logged the cause.
	c.reply(false, CodeSysTemp, "authentication failed, try again later")
	return true
}

// passwordHook lets USER/PASS run PLAIN whether or not AUTH advertises it
// (the cleartext policy of an auth.ServerConfig may leave it out).
type passwordHook struct {
	Session
	password bool
	host     string // the Server's Hostname, for CRAM-MD5
}

// NewSASLServer gives a CRAM-MD5 server the session returns without a
// Hostname the Server's, which its challenge names (RFC 2195 §2).
func (h passwordHook) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	srv, err := h.Session.NewSASLServer(ctx, mech)
	if cs, ok := srv.(*auth.CRAMMD5Server); ok && cs.Hostname == "" {
		cs.Hostname = h.host
	}
	return srv, err
}

// authBlocked reports whether the client has failed
// Limits.MaxAuthFailuresPerClient logins lately.
func (c *Conn) authBlocked(verb string) bool {
	if !c.srv.clients.AuthBlocked(c.RemoteAddr()) {
		return false
	}
	c.log.Info("login refused: too many failed logins from the client", "cmd", verb)
	return true
}

// refuseBlocked answers a login attempt authBlocked refuses, with RFC 3206
// §4's SYS/TEMP: a temporary condition, not the credentials' fault.
func (c *Conn) refuseBlocked() bool {
	return c.fail(CodeSysTemp, "too many failed logins from your address, try later")
}

func (h passwordHook) SASLMechanisms() []string {
	if h.password {
		return []string{"PLAIN"}
	}
	return h.Session.SASLMechanisms()
}

// authTransport frames SASL challenges as "+ " lines (RFC 5034 §4).
type authTransport struct{ c *Conn }

func (t authTransport) Challenge(data []byte) (string, error) {
	c := t.c
	c.w.WriteString("+ " + base64.StdEncoding.EncodeToString(data) + "\r\n")
	if err := c.flush(); err != nil {
		return "", sasl.ConnError(err)
	}
	c.r.SetMax(sasl.MaxLine)
	defer c.r.SetMax(MaxCommandLine - 2)
	if err := c.armRead(); err != nil {
		return "", sasl.ConnError(err)
	}
	b, end, err := c.r.ReadLine()
	if err == textline.ErrLineTooLong {
		if _, _, err := c.r.SkipLine(); err != nil {
			return "", sasl.ConnError(err)
		}
		return "", sasl.ErrLineTooLong
	}
	if err != nil {
		return "", sasl.ConnError(err)
	}
	if end == textline.EndNone {
		return "", sasl.ConnError(errors.New("connection closed mid-line"))
	}
	return string(b), nil
}

// authFailed answers a failed login and reports whether the session goes on.
func (c *Conn) authFailed(err error) bool {
	c.authFails++
	if errors.Is(err, auth.ErrAuthFailed) {
		c.srv.clients.AuthFailed(c.RemoteAddr())
	}
	code, text := c.errReply(err, "authentication")
	if max := c.srv.limits().MaxAuthFailures; max > 0 && c.authFails >= max {
		c.reply(false, code, text+"; too many failures, closing connection")
		return false
	}
	c.reply(false, code, text)
	return true
}

// login opens the maildrop and enters TRANSACTION (RFC 1939 §4).
func (c *Conn) login(user string) bool {
	drop, err := c.session.OpenMaildrop(c.ctx, user)
	if err != nil {
		c.log.Info("cannot open maildrop", "user", user, "err", err)
		c.replyErr(err, "opening the maildrop")
		return true
	}
	msgs, err := drop.Messages(c.ctx)
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
			c.log.Error("maildrop lists an invalid message", "user", user, "uid", m.UID, "size", m.Size)
			c.reply(false, CodeSysPerm, "maildrop is damaged")
			return true
		}
	}
	c.drop, c.msgs, c.ident = drop, msgs, user
	c.log = c.log.With("user", user)
	c.deleted = make([]bool, len(msgs))
	c.total = 0
	for _, m := range msgs {
		c.total += m.Size
	}
	c.state = stateTransaction
	c.log.Info("logged in", "messages", len(msgs))
	c.reply(true, "", c.summary())
	return true
}

func (c *Conn) cmdAPOP(cmd Command) bool {
	as, ok := c.session.(APOPSession)
	if !ok || c.timestamp == "" {
		return c.fail("", "APOP not supported")
	}
	if len(cmd.Args) != 2 {
		return c.fail("", "usage: APOP name digest")
	}
	if c.authBlocked("APOP") {
		return c.refuseBlocked()
	}
	user, digest := cmd.Args[0], strings.ToLower(cmd.Args[1])
	secret, err := as.APOPSecret(c.ctx, user)
	if err == nil && subtle.ConstantTimeCompare([]byte(apopDigest(c.timestamp, secret)), []byte(digest)) != 1 {
		// Constant time: the digest is a secret-derived value.
		err = auth.ErrAuthFailed
	}
	if err != nil {
		if errors.Is(err, auth.ErrAuthFailed) {
			c.log.Info("authentication failed", "cmd", "APOP", "mech", "APOP", "err", err)
		}
		return c.authFailed(err)
	}
	c.log.Info("authenticated", "cmd", "APOP", "mech", "APOP", "user", user)
	return c.login(user)
}
