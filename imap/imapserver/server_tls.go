package imapserver

import (
	"bufio"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
	"github.com/mailwire/mailwire/internal/netutil"
)

var bufioErrBufferFull = bufio.ErrBufferFull

// cmdStartTLS runs STARTTLS (RFC 3501 §6.2.1).
func (c *Conn) cmdStartTLS(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	if c.srv.TLSConfig == nil {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "STARTTLS not supported")
	}
	if c.tls != nil {
		return c.fail(cmd.Tag, imap.StatusBAD, nil, "TLS already active")
	}
	c.status(cmd.Tag, imap.StatusOK, nil, "begin TLS negotiation now")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	tc, err := netutil.StartTLS(c.ctx, c.nc, c.srv.tlsConfig(), c.srv.limits().TLSHandshakeTimeout)
	if err != nil {
		c.log.Debug("STARTTLS handshake failed", "err", err)
		return errClose
	}
	st := tc.ConnectionState()
	c.tls = &st
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.dw.nc = tc
	// RFC 3501 §6.2.1 and the STARTTLS injection attack: whatever the
	// client sent before the handshake is dropped.
	c.setReader(tc)
	c.bw.Reset(&c.dw)
	return nil
}
