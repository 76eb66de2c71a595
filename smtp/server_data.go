package smtp

import (
	"io"
	"sync"
	"time"
)

func (c *Conn) dataCmd(arg string) {
	if arg != "" {
		c.reply(501, EnhancedCode{5, 5, 4}, "DATA takes no argument")
		return
	}
	if !c.readyForData() {
		return
	}
	if c.mailOpts.Body == BodyBinaryMIME {
		// RFC 3030 §3: BINARYMIME messages go with BDAT only.
		c.reply(503, EnhancedCode{5, 5, 1}, "BODY=BINARYMIME requires BDAT")
		return
	}
	c.reply(354, NoEnhancedCode, "End data with <CR><LF>.<CR><LF>")
	if c.tr.Buffered() == 0 {
		// The Session may take its time before reading: the client waits
		// for 354 before sending (RFC 2920 §3.1).
		if err := c.flush(); err != nil {
			c.quit = true
			return
		}
	}
	dr := newDataReader(c.tr, c.srv.BareNewline, c.srv.AllowNUL, c.srv.limits().MaxMessageBytes)
	c.data = true
	c.startData()
	status, err := c.deliver(dr)
	ioErr := dr.drain()
	c.data, c.dataEnd = false, time.Time{}
	if ioErr != nil {
		c.readFailed(ioErr)
		c.quit = true
		return
	}
	switch {
	case dr.over:
		err = errTooLarge
		status = nil
	case dr.bare && c.srv.BareNewline == BareNewlineReject:
		err = errBareNewlineReply
		status = nil
	case dr.nul:
		err = errNULReply
		status = nil
	}
	c.finishMessage(status, err)
}

// readyForData checks the sequence for DATA and BDAT.
func (c *Conn) readyForData() bool {
	switch {
	case c.from == nil:
		c.reply(503, EnhancedCode{5, 5, 1}, "Send MAIL first")
	case len(c.rcpts) == 0:
		c.reply(503, EnhancedCode{5, 5, 1}, "No valid recipients")
	default:
		return true
	}
	return false
}

// deliver hands the message to the Session; for LMTP it returns the status of
// each recipient when the Session sets them.
func (c *Conn) deliver(r io.Reader) (*lmtpStatus, error) {
	if c.srv.LMTP {
		if ls, ok := c.session.(LMTPSession); ok {
			st := newLMTPStatus(c.rcpts)
			err := ls.LMTPData(c.ctx, r, st)
			return st, err
		}
	}
	return nil, c.session.Data(c.ctx, r)
}

// finishMessage replies to the end of a message and ends the transaction.
func (c *Conn) finishMessage(status *lmtpStatus, err error) {
	if c.srv.LMTP {
		// RFC 2033 §4.2: one reply per accepted recipient, in order.
		for i := range c.rcpts {
			e := err
			if status != nil && status.set[i] {
				e = status.errs[i]
			}
			if e != nil {
				c.replyErr(e)
			} else {
				c.reply(250, EnhancedCode{2, 0, 0}, "<%s> Ok", c.rcpts[i].String())
			}
		}
	} else if err != nil {
		c.replyErr(err)
	} else {
		c.reply(250, EnhancedCode{2, 0, 0}, "Ok: queued")
	}
	if err == nil {
		// A client that delivers mail is not idling: MTAs reusing a
		// connection send RSET before each message.
		c.junk = 0
	}
	c.reset()
}

// lmtpStatus implements StatusCollector.
type lmtpStatus struct {
	mu    sync.Mutex
	rcpts []Mailbox
	errs  []error
	set   []bool
}

func newLMTPStatus(rcpts []Mailbox) *lmtpStatus {
	return &lmtpStatus{rcpts: rcpts, errs: make([]error, len(rcpts)), set: make([]bool, len(rcpts))}
}

func (s *lmtpStatus) SetStatus(rcpt Mailbox, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rcpts {
		if r == rcpt && !s.set[i] {
			s.errs[i], s.set[i] = err, true
			return
		}
	}
}

var (
	// RFC 1870 §6.2 / RFC 3463 X.3.4.
	errTooLarge = &Error{Code: 552, EnhancedCode: EnhancedCode{5, 3, 4}, Message: "Message size exceeds fixed maximum message size"}
	// RFC 5321 §2.3.8, §4.5.2; see BareNewlinePolicy.
	// RFC 2045 §2.8, RFC 6152 §2; see Server.AllowNUL.
	errNULReply         = &Error{Code: 554, EnhancedCode: EnhancedCode{5, 6, 0}, Message: "Message refused: NUL octet in data (use BDAT with BODY=BINARYMIME for binary)"}
	errBareNewlineReply = &Error{Code: 554, EnhancedCode: EnhancedCode{5, 6, 0}, Message: "Message refused: bare CR or LF in data (RFC 5321 section 2.3.8)"}
)
