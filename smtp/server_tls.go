package smtp

import (
	"log/slog"

	"github.com/mailwire/mailwire/internal/netutil"
)

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
