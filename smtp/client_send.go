package smtp

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Send runs one mail transaction: MAIL, a RCPT per recipient, then the data
// from r in BDAT chunks when the server offers CHUNKING, else with DATA.
// When the server offers PIPELINING, MAIL, the RCPTs and DATA go out in one
// batch (a few batches beyond 8 recipients) and their replies are matched in
// order (RFC 2920 §3.1). When r has a
// Len method (a *bytes.Reader, *strings.Reader or *bytes.Buffer) and the
// server offers SIZE, MAIL declares that size unless MailOptions gives one.
//
// MailOptions.Body declares the message's body type: Send passes it on as
// BODY= (RFC 6152, RFC 3030) and, when the server cannot take it, either
// fails before MAIL with an *UnsupportedError or, with
// ClientOptions.Downgrade, converts the message to 7 bits as it sends it.
// The body type is the caller's to declare, as Send cannot look at a
// streamed body before MAIL; so is MailOptions.UTF8 for a message with
// UTF-8 header fields (RFC 6532), which only a server offering SMTPUTF8
// takes (RFC 6531 §3.4), with no downgrade.
//
// The Result has an entry per recipient. The error is nil only when every
// recipient got the message. When the transaction as a whole failed (MAIL or
// DATA refused, the message refused, the connection lost) it is that error,
// an *Error for a refusal; when only some recipients failed (at RCPT, or
// after the data with LMTP) it is a *DeliveryError. An error that is neither
// (a lost connection, an expired context) after the data went out leaves the
// outcome unknown, as in any SMTP client: the server may have taken the
// message.
func (c *Client) Send(ctx context.Context, env *Envelope, r io.Reader) (*Result, error) {
	res := &Result{Rcpts: make([]RcptResult, len(env.To))}
	for i, to := range env.To {
		res.Rcpts[i].Addr = to
	}
	failAll := func(err error) (*Result, error) {
		for i := range res.Rcpts {
			if res.Rcpts[i].Err == nil {
				res.Rcpts[i].Err = err
			}
		}
		return res, err
	}
	if c.err != nil {
		return failAll(c.err)
	}
	if c.inMail {
		return failAll(errors.New("smtp: Send: a transaction is already open (call Reset)"))
	}
	if len(env.To) == 0 {
		return failAll(errors.New("smtp: Send: no recipients"))
	}
	if env.RcptOptions != nil && len(env.RcptOptions) != len(env.To) {
		return failAll(errors.New("smtp: Send: RcptOptions and To differ in length"))
	}
	chunking := c.chunking()
	var src io.Reader // the message to convert, when downgrading
	if c.opts.Downgrade != nil && env.MailOptions != nil && !c.canCarry(env.MailOptions.Body) {
		// RFC 6152 §3: convert to 7 bits for a server without 8BITMIME.
		mo := *env.MailOptions
		mo.Body, mo.Size = Body7Bit, 0
		e := *env
		e.MailOptions = &mo
		env, src, r = &e, r, nil
	}
	lines, mo, bad, err := c.envelopeCommands(env, r, chunking)
	if err != nil {
		if bad >= 0 {
			res.Rcpts[bad].Err = err
		}
		return failAll(err)
	}
	if err := ctx.Err(); err != nil {
		return failAll(err)
	}
	done := c.arm(ctx)
	defer done()

	reps, err := c.sendEnvelope(ctx, lines, len(env.To), chunking)
	if err != nil {
		return failAll(err)
	}
	// RFC 2920 §3.1: check every status, counting replies against commands.
	nrcpt := len(env.To)
	mailOK := reps[0].Code/100 == 2
	c.rcpts = c.rcpts[:0]
	var acceptedIdx []int
	for i := 1; mailOK && i < len(reps) && i <= nrcpt; i++ {
		if reps[i].Code/100 == 2 {
			acceptedIdx = append(acceptedIdx, i-1)
			c.rcpts = append(c.rcpts, env.To[i-1])
		} else {
			res.Rcpts[i-1].Err = clientReplyError(reps[i])
		}
	}
	var dataRep *Reply
	if !chunking && len(reps) == nrcpt+2 {
		dataRep = reps[nrcpt+1]
	}
	// abandon ends a transaction that cannot go on. RFC 2920 §3.1: if DATA
	// was accepted anyway, a lone "." ends it; otherwise RSET does.
	abandon := func() error {
		if dataRep != nil && dataRep.Code == 354 {
			return clientExchange(c, ctx, ".\r\n")
		} else if mailOK {
			return clientExchange(c, ctx, "RSET\r\n")
		}
		return nil
	}
	switch {
	case !mailOK:
		err := clientReplyError(reps[0])
		abandon()
		return failAll(err)
	case len(acceptedIdx) == 0:
		de := &DeliveryError{}
		de.Failed = append(de.Failed, res.Rcpts...)
		if err := abandon(); err != nil {
			return failAll(err)
		}
		return res, de
	case dataRep != nil && dataRep.Code != 354:
		err := clientReplyError(dataRep)
		abandon()
		return failAll(err)
	}
	c.inMail, c.mailUTF8, c.mailBody = true, mo.UTF8, mo.Body
	defer c.endMail()

	if src != nil {
		pr, pw := io.Pipe()
		converted := make(chan struct{})
		go func() {
			defer close(converted)
			pw.CloseWithError(c.opts.Downgrade(pw, src))
		}()
		// The conversion must not outlive Send: it reads the caller's r.
		defer func() { pr.Close(); <-converted }()
		r = pr
	}
	last, perRcpt, err := c.sendData(ctx, r, chunking)
	res.Reply = last
	if err != nil {
		return failAll(err)
	}
	for k, e := range perRcpt {
		res.Rcpts[acceptedIdx[k]].Err = e
	}
	de := &DeliveryError{}
	for _, rr := range res.Rcpts {
		if rr.Err != nil {
			de.Failed = append(de.Failed, rr)
		} else {
			de.Delivered++
		}
	}
	if len(de.Failed) > 0 {
		return res, de
	}
	return res, nil
}

// envelopeCommands builds MAIL, a RCPT per recipient and, without
// CHUNKING, DATA, so that nothing goes out unless every command is valid.
// bad is the recipient whose command failed, or -1.
func (c *Client) envelopeCommands(env *Envelope, r io.Reader, chunking bool) (lines []string, mo *MailOptions, bad int, err error) {
	needUTF8 := env.From.hasNonASCII()
	for _, to := range env.To {
		needUTF8 = needUTF8 || to.hasNonASCII()
	}
	mopts := env.MailOptions
	if l, ok := r.(interface{ Len() int }); ok && (mopts == nil || mopts.Size == 0) {
		// RFC 1870: declare the size when it is known, so that a server
		// refuses a message too large before it is sent.
		if _, offered := c.ext["SIZE"]; offered && l.Len() > 0 {
			m := MailOptions{}
			if mopts != nil {
				m = *mopts
			}
			m.Size = int64(l.Len())
			mopts = &m
		}
	}
	mailLine, mo, err := c.mailboxLine(env.From, mopts, needUTF8)
	if err != nil {
		return nil, nil, -1, err
	}
	lines = make([]string, 1, len(env.To)+2)
	lines[0] = mailLine
	for i, to := range env.To {
		var ro *RcptOptions
		if env.RcptOptions != nil {
			ro = env.RcptOptions[i]
		}
		l, err := c.rcptMailboxLine(to, ro, mo.UTF8)
		if err != nil {
			return nil, nil, i, err
		}
		lines = append(lines, l)
	}
	if !chunking {
		lines = append(lines, "DATA")
	}
	return lines, mo, -1, nil
}

// sendEnvelope sends the envelope's commands and reads their replies: in
// pipelined groups when the server offers PIPELINING (RFC 2920), else one
// at a time, stopping after a refused MAIL and, without any recipient
// accepted, before DATA.
func (c *Client) sendEnvelope(ctx context.Context, lines []string, nrcpt int, chunking bool) ([]*Reply, error) {
	reps := make([]*Reply, 0, len(lines))
	exchange := func(from, to int) error {
		for _, l := range lines[from:to] {
			c.w.WriteString(l)
			c.w.WriteString("\r\n")
		}
		if err := c.flush(ctx); err != nil {
			return err
		}
		for range to - from {
			rep, err := c.readReply(ctx)
			if err != nil {
				return err
			}
			reps = append(reps, rep)
		}
		return nil
	}
	if c.pipelining() {
		// The first group holds MAIL and at most clientFirstGroupRcpts
		// recipients (and DATA when they are all there): if MAIL is refused,
		// every RCPT after it earns an error too, and servers drop clients
		// that collect too many errors.
		firstEnd := len(lines) - 1
		if nrcpt > clientFirstGroupRcpts {
			firstEnd = clientFirstGroupRcpts
		}
		start, size := 0, 0
		for i, l := range lines {
			size += len(l) + 2
			if size >= clientPipelineGroup || i == len(lines)-1 || i == firstEnd {
				if err := exchange(start, i+1); err != nil {
					return nil, err
				}
				start, size = i+1, 0
				if reps[0].Code/100 != 2 {
					break // no point in sending more after a refused MAIL
				}
			}
		}
		return reps, nil
	}
	if err := exchange(0, 1); err != nil || reps[0].Code/100 != 2 {
		return reps, err
	}
	accepted := 0
	for i := 1; i <= nrcpt; i++ {
		if err := exchange(i, i+1); err != nil {
			return nil, err
		}
		if reps[i].Code/100 == 2 {
			accepted++
		}
	}
	if accepted > 0 && !chunking {
		if err := exchange(nrcpt+1, nrcpt+2); err != nil {
			return nil, err
		}
	}
	return reps, nil
}

// sendData sends the message from r, in BDAT chunks or dot-stuffed after
// DATA's 354, and returns the final reply and, for LMTP, the accepted
// recipients' own outcomes.
func (c *Client) sendData(ctx context.Context, r io.Reader, chunking bool) (*Reply, []error, error) {
	if chunking {
		bw := c.newBdatWriter(ctx)
		if _, err := io.Copy(bw, r); err != nil && bw.err == nil {
			// The source failed: close abandons the chunks sent so far.
			bw.err = fmt.Errorf("smtp: reading the message: %w", err)
		}
		return bw.close()
	}
	ew := &clientErrWriter{w: c.w}
	dw := NewDotWriter(ew)
	if _, err := io.Copy(dw, r); err != nil {
		if ew.err != nil {
			return nil, nil, c.writeFailed(ctx, ew.err)
		}
		// A message cut short must not be delivered, and DATA has no way to
		// abort but closing the connection.
		c.conn.Close()
		c.fail(ctx, fmt.Errorf("smtp: connection closed after the message source failed: %w", err))
		return nil, nil, fmt.Errorf("smtp: reading the message: %w", err)
	}
	if err := dw.Close(); err != nil {
		return nil, nil, c.writeFailed(ctx, err)
	}
	if err := c.flush(ctx); err != nil {
		return nil, nil, err
	}
	return c.dataReplies(ctx)
}
