package imapserver

import (
	"strings"

	"github.com/mailwire/mailwire/imap"
	"github.com/mailwire/mailwire/imap/imapwire"
)

// cmdIdle runs IDLE (RFC 2177): changes to the selected mailbox are
// reported as the Mailbox's Notifier signals them, until the client sends
// DONE. Shutdown ends an IDLE with "* BYE".
func (c *Conn) cmdIdle(cmd imapwire.Command) error {
	if err := imapwire.ReadNoArgs(c.dec); err != nil {
		return err
	}
	c.bw.WriteString("+ idling\r\n")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	var changes <-chan struct{}
	if c.sel != nil {
		if n, ok := c.sel.mbox.(Notifier); ok {
			changes = n.Changes()
		}
	}
	if err := c.wait(true); err != nil {
		return c.waitErr(err)
	}
	type result struct {
		line []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := c.readLine(64)
		done <- result{line, err}
	}()
	for {
		select {
		case <-changes:
			if err := c.update(true); err != nil {
				c.log.Error("backend error", "cmd", "IDLE", "err", err)
			}
			if err := c.bw.Flush(); err != nil {
				<-done
				return err
			}
			continue
		case r := <-done:
			if r.err == errLineTooLong {
				c.wait(false)
				return c.fail(cmd.Tag, imap.StatusBAD, nil, "expected DONE")
			}
			if r.err != nil {
				return c.waitErr(r.err)
			}
			if err := c.wait(false); err != nil {
				return err
			}
			if !strings.EqualFold(string(r.line), "DONE") {
				return c.fail(cmd.Tag, imap.StatusBAD, nil, "expected DONE")
			}
			return c.ok(cmd.Tag, cmd, nil, "IDLE terminated")
		}
	}
}
