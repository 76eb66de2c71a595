package smtp

import (
	"strconv"
	"strings"
)

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
