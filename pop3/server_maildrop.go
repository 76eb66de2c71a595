package pop3

import (
	"fmt"
	"io"
	"strconv"
)

func (c *Conn) summary() string {
	return fmt.Sprintf("maildrop has %d messages (%d octets)", len(c.msgs)-c.ndel, c.total-c.delSize)
}

// message resolves a message number argument, answering -ERR itself when it
// does not name a message that is there.
func (c *Conn) message(arg string) (int, bool) {
	n, ok := parseNumber(arg)
	if !ok || n < 1 {
		c.fail("", "invalid message number")
		return 0, false
	}
	if n > len(c.msgs) {
		c.reply(false, "", "no such message, only "+strconv.Itoa(len(c.msgs))+" messages in maildrop")
		return 0, false
	}
	if c.deleted[n-1] {
		// RFC 1939 §5: a message marked deleted may not be referred to.
		c.reply(false, "", "message "+arg+" already deleted")
		return 0, false
	}
	return n - 1, true
}

func (c *Conn) cmdList(cmd Command, uidl bool) bool {
	name := "LIST"
	if uidl {
		name = "UIDL"
	}
	item := func(i int) string {
		if uidl {
			return strconv.Itoa(i+1) + " " + c.msgs[i].UID
		}
		return strconv.Itoa(i+1) + " " + strconv.FormatInt(c.msgs[i].Size, 10)
	}
	switch len(cmd.Args) {
	case 0:
		if uidl {
			c.reply(true, "", "unique-id listing follows")
		} else {
			c.reply(true, "", c.summary())
		}
		for i := range c.msgs {
			if !c.deleted[i] {
				c.w.WriteString(item(i))
				c.w.WriteString("\r\n")
			}
		}
		c.w.WriteString(".\r\n")
	case 1:
		i, ok := c.message(cmd.Args[0])
		if ok {
			c.reply(true, "", item(i))
		}
	default:
		return c.fail("", "usage: "+name+" [msg]")
	}
	return true
}

// cmdRetr sends a message (lines < 0) or its header and first lines lines
// (TOP), streaming it through the dot-stuffer.
func (c *Conn) cmdRetr(arg string, lines int) bool {
	i, ok := c.message(arg)
	if !ok {
		return true
	}
	rc, err := c.drop.Open(c.ctx, i)
	if err != nil {
		c.replyErr(err, "reading the message")
		return true
	}
	defer rc.Close()
	if lines < 0 {
		c.reply(true, "", strconv.FormatInt(c.msgs[i].Size, 10)+" octets")
	} else {
		c.reply(true, "", "top of message follows")
	}
	dw := newDotWriter(c.w)
	var dst io.Writer = dw
	if lines >= 0 {
		dst = newTopWriter(dw, lines)
	}
	bp := bufPool.Get().(*[]byte)
	// Hide any WriterTo of rc (as *os.File's) so the copy uses our buffer.
	_, err = io.CopyBuffer(dst, struct{ io.Reader }{rc}, *bp)
	bufPool.Put(bp)
	if err != nil && err != errTopDone {
		// The response is half sent; the only honest way out is to drop the
		// connection (nothing is deleted).
		c.log.Error("sending message failed", "msg", i+1, "err", err)
		return false
	}
	if err := dw.Close(); err != nil {
		return false
	}
	return true
}

// validUID checks RFC 1939 §7: a unique-id is 1 to 70 characters in the
// range 0x21 to 0x7E.
func validUID(uid string) bool {
	if len(uid) == 0 || len(uid) > 70 {
		return false
	}
	for i := 0; i < len(uid); i++ {
		if uid[i] < 0x21 || uid[i] > 0x7e {
			return false
		}
	}
	return true
}

// quit ends the session; from TRANSACTION it enters UPDATE (RFC 1939 §6).
func (c *Conn) quit() bool {
	if c.state != stateTransaction {
		c.reply(true, "", "bye")
		return false
	}
	drop := c.drop
	c.drop = nil
	var idx []int
	for i, d := range c.deleted {
		if d {
			idx = append(idx, i)
		}
	}
	var err error
	if len(idx) > 0 {
		err = drop.Delete(c.ctx, idx)
	}
	if cerr := drop.Close(); cerr != nil {
		c.log.Warn("closing the maildrop", "err", cerr)
	}
	if err != nil {
		c.log.Error("deleting messages", "err", err)
		// RFC 1939 §6: "-ERR some deleted messages not removed".
		c.reply(false, CodeSysTemp, "some deleted messages not removed")
		return false
	}
	left := len(c.msgs) - c.ndel
	if left == 0 {
		c.reply(true, "", "bye (maildrop empty)")
	} else {
		c.reply(true, "", fmt.Sprintf("bye (%d messages left)", left))
	}
	return false
}
