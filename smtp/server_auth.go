package smtp

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"

	"github.com/mailwire/mailwire/auth"
	"github.com/mailwire/mailwire/internal/limits"
	"github.com/mailwire/mailwire/internal/sasl"
	"github.com/mailwire/mailwire/internal/textline"
)

// auth runs AUTH (RFC 4954 §4) through the shared SASL exchange.
func (c *Conn) auth(arg string) {
	as, ok := c.session.(AuthSession)
	switch {
	case !ok:
		c.reply(502, EnhancedCode{5, 5, 1}, "AUTH not supported")
		return
	case c.helo == "" || !c.ehlo:
		c.reply(503, EnhancedCode{5, 5, 1}, "Send %s first", c.helloVerb())
		return
	case c.ident != "":
		// RFC 4954 §4: no second AUTH once authenticated.
		c.reply(503, EnhancedCode{5, 5, 1}, "Already authenticated")
		return
	case c.from != nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "AUTH not allowed during a mail transaction")
		return
	}
	if c.srv.clients.AuthBlocked(c.RemoteAddr()) {
		// Limits.MaxAuthFailuresPerClient: RFC 4954 §6, 454 4.7.0.
		c.logf(slog.LevelInfo, "refused", "cmd", "AUTH", "err", "too many failed authentications from the client")
		c.reply(454, EnhancedCode{4, 7, 0}, "Too many failed authentications from your address, try again later")
		return
	}
	mech, ir, hasIR := strings.Cut(arg, " ")
	x := sasl.Exchange{
		Hook:          authHook{as, c.srv.domain()},
		Transport:     authTransport{c},
		Secure:        c.tlsOK,
		AllowInsecure: c.srv.AllowInsecureAuth,
		Logger:        c.logger(),
	}
	id, err := x.Run(c.ctx, mech, ir, hasIR)
	var e *Error
	switch o := sasl.Classify(err); {
	case o == sasl.OK:
		c.ident = id
		c.reply(235, EnhancedCode{2, 7, 0}, "Authentication successful")
	case errors.As(err, &e):
		c.replyErr(e)
	case o == sasl.Closed:
		c.quit = true
	case o == sasl.Insecure:
		// RFC 4954 §4 / RFC 5248: 538 5.7.11 Encryption required.
		c.reply(538, EnhancedCode{5, 7, 11}, "Encryption required for requested authentication mechanism")
	case o == sasl.NoMechanism:
		c.reply(504, EnhancedCode{5, 5, 4}, "Unrecognized authentication type")
	case o == sasl.Cancelled:
		c.reply(501, EnhancedCode{5, 0, 0}, "Authentication cancelled")
	case o == sasl.TooLong:
		// RFC 4954 §4: 500 5.5.6 Authentication Exchange line is too long.
		c.reply(500, EnhancedCode{5, 5, 6}, "Authentication Exchange line is too long")
	case o == sasl.Syntax:
		c.reply(501, EnhancedCode{5, 5, 2}, "Malformed authentication response")
	case o == sasl.Failed:
		// RFC 4954 §6: 535 5.7.8 Authentication credentials invalid.
		c.reply(535, EnhancedCode{5, 7, 8}, "Authentication credentials invalid")
		c.authFailures++
		c.srv.clients.AuthFailed(c.RemoteAddr())
		if max := c.srv.limits().MaxAuthFailures; max > 0 && c.authFailures >= max {
			c.reply(421, EnhancedCode{4, 7, 0}, "%s Too many failed authentications, closing connection", c.srv.domain())
			c.quit = true
		}
	default:
		// RFC 4954 §6: 454 4.7.0 Temporary authentication failure; the
		// exchange logged the cause.
		c.reply(454, EnhancedCode{4, 7, 0}, "Temporary authentication failure")
	}
}

// authHook gives the mechanisms a session creates the server's Hostname
// where they need one: a CRAM-MD5 challenge names the server (RFC 2195 §2),
// not the machine it happens to run on.
type authHook struct {
	AuthSession
	host string
}

func (h authHook) NewSASLServer(ctx context.Context, mech string) (auth.Server, error) {
	srv, err := h.AuthSession.NewSASLServer(ctx, mech)
	if cs, ok := srv.(*auth.CRAMMD5Server); ok && cs.Hostname == "" {
		cs.Hostname = h.host
	}
	return srv, err
}

// authTransport frames SASL challenges as 334 replies (RFC 4954 §4).
type authTransport struct{ c *Conn }

func (t authTransport) Challenge(data []byte) (string, error) {
	c := t.c
	c.reply(334, NoEnhancedCode, "%s", base64.StdEncoding.EncodeToString(data))
	c.tr.SetMax(sasl.MaxLine)
	defer c.tr.SetMax(c.srv.limits().MaxLineLength)
	c.nc.SetReadDeadline(limits.Deadline(c.srv.limits().ReadTimeout))
	line, end, err := c.tr.ReadLine()
	switch {
	case errors.Is(err, textline.ErrLineTooLong):
		if _, _, err := c.tr.SkipLine(); err != nil {
			c.readFailed(err)
			return "", sasl.ConnError(err)
		}
		return "", sasl.ErrLineTooLong
	case err != nil:
		c.readFailed(err)
		return "", sasl.ConnError(err)
	case end == textline.EndNone:
		return "", sasl.ConnError(errors.New("connection closed mid-line"))
	}
	return string(line), nil
}

// logger returns the connection's logger, or nil.
func (c *Conn) logger() *slog.Logger {
	if c.srv.Logger == nil {
		return nil
	}
	if c.log == nil {
		c.log = c.srv.Logger.With("proto", c.srv.proto(), "remote", c.nc.RemoteAddr().String())
	}
	return c.log
}
