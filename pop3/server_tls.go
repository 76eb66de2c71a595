package pop3

import (
	"crypto/tls"
)

func (c *Conn) cmdSTLS(cmd Command) bool {
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
		c.log.Debug("STLS handshake failed", "err", err)
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
