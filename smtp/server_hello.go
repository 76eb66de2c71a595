package smtp

import (
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// reset ends the current transaction, telling the Session if one was open.
func (c *Conn) reset() {
	had := c.from != nil
	c.from, c.mailOpts, c.rcpts, c.bdat = nil, nil, nil, false
	if had {
		c.session.Reset(c.ctx)
	}
}

// helloVerb names the greeting command for replies to other commands.
func (c *Conn) helloVerb() string {
	if c.srv.LMTP {
		return "LHLO"
	}
	return "EHLO"
}

func (c *Conn) hello(verb string, arg string) {
	ehlo := verb != "HELO"
	if arg == "" {
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: %s hostname", verb)
		return
	}
	name, err := helloName(arg)
	if err != nil {
		// RFC 5321 §4.1.1.1: the argument is a Domain or an address
		// literal. Anything else could break the Received field it goes
		// into ("a(b" would open a comment swallowing the by clause).
		c.logf(slog.LevelInfo, "refused", "cmd", verb, "err", err)
		c.reply(501, EnhancedCode{5, 5, 2}, "Syntax: %s domain or address literal (RFC 5321 section 4.1.1.1)", verb)
		return
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

// helloName checks the argument of EHLO, HELO or LHLO: a Domain or an
// address literal (RFC 5321 §4.1.1.1, §4.1.3), and returns it in ASCII. A
// name with U-labels is taken and given in its A-label form (RFC 5890
// §2.3.2.1): RFC 6531 §3.7.1 has SMTPUTF8 clients send ASCII there, and
// Received fields need it, but refusing the greeting would fail a client
// that merely got the form wrong.
func helloName(arg string) (string, error) {
	if hasNonASCII(arg) {
		if !utf8.ValidString(arg) {
			return "", pathError("name is not valid UTF-8")
		}
		a, err := idna.Lookup.ToASCII(arg)
		if err != nil {
			return "", pathError("malformed internationalized domain name: %v", err)
		}
		arg = a
	}
	for i := 0; i < len(arg); i++ {
		// The name ends up in Conn.Hostname and, through Sessions, in
		// Received fields and logs: no control characters.
		if b := arg[i]; b < '!' || b == 0x7f {
			return "", pathError("control character or space in the name")
		}
	}
	if err := checkDomainOrLiteral(arg, false); err != nil {
		return "", err
	}
	return arg, nil
}

// authMechanisms returns the mechanisms to offer now, or nil.
func (c *Conn) authMechanisms() []string {
	as, ok := c.session.(AuthSession)
	if !ok || c.ident != "" || (!c.tlsOK && !c.srv.AllowInsecureAuth) {
		return nil
	}
	return as.SASLMechanisms()
}
