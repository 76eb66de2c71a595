package smtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// clientPipelineGroup bounds the bytes of commands sent in one pipelined group
// before the client reads their replies: RFC 2920 §3.1 asks a client that
// does not read while it writes to keep each group within the TCP window.
const clientPipelineGroup = 8 << 10

// clientFirstGroupRcpts bounds the recipients pipelined with MAIL before its
// reply is known.
const clientFirstGroupRcpts = 8

// ErrUnsupported is wrapped by the errors of Mail, Rcpt and Send when an
// option needs an extension the server does not offer (SMTPUTF8, 8BITMIME,
// BINARYMIME, DSN). The client refuses rather than send what the server
// cannot take.
var ErrUnsupported = errors.New("smtp: not supported by the server")

// UnsupportedError is the error of Mail, Rcpt, Data and Send when an option
// needs an extension the server does not offer. It wraps ErrUnsupported;
// errors.As finds which extension was missing, so that a caller (a queue,
// say) can convert the message or bounce it.
type UnsupportedError struct {
	// Extension is the EHLO keyword missing: "SMTPUTF8", "8BITMIME",
	// "BINARYMIME", "CHUNKING" or "DSN".
	Extension string
	// RFC names the extension's specification, as "RFC 6152".
	RFC string
}

func (e *UnsupportedError) Error() string {
	return ErrUnsupported.Error() + ": " + e.Extension + " (" + e.RFC + ")"
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

func unsupported(ext, rfc string) error { return &UnsupportedError{Extension: ext, RFC: rfc} }

// Envelope is the envelope of one message for Send: the reverse-path, the
// recipients and their ESMTP parameters. The addresses are Mailbox values,
// as a Server's Session receives them, so that a relay passes them on
// without formatting and parsing them again; ParseMailbox and
// MustParseMailbox make them from strings.
type Envelope struct {
	// From is the sender's address, the zero Mailbox for the null
	// reverse-path of bounces (RFC 5321 §4.5.5).
	From Mailbox
	// MailOptions are the MAIL parameters; nil means none.
	MailOptions *MailOptions
	// To lists the recipients' addresses.
	To []Mailbox
	// RcptOptions, when not nil, holds the RCPT parameters of each
	// recipient: RcptOptions[i] for To[i], a nil element meaning none. It
	// must be as long as To.
	RcptOptions []*RcptOptions
}

// RcptResult is what became of one recipient.
type RcptResult struct {
	Addr Mailbox
	// Err is nil when the server took the message for this recipient.
	// Otherwise it is the server's refusal, an *Error, or the reason the
	// message could not be sent.
	Err error
}

// Result is the outcome of Send, with one entry per recipient.
type Result struct {
	// Rcpts holds the recipients in the order given.
	Rcpts []RcptResult
	// Reply is the server's reply to the end of the message data, which
	// often names the queue ID ("250 2.0.0 Ok: queued as 4C2B..."); for LMTP
	// the reply for the last recipient that got one. It is nil when no data
	// was sent.
	Reply *Reply
}

// Delivered returns how many recipients the server took the message for.
func (r *Result) Delivered() int {
	n := 0
	for _, rc := range r.Rcpts {
		if rc.Err == nil {
			n++
		}
	}
	return n
}

// DeliveryError reports the recipients that did not get a message: refused
// at RCPT or, with LMTP, after the data. Other recipients may have got it;
// Delivered says how many. errors.As on a DeliveryError finds the *Error of
// the first failed recipient.
type DeliveryError struct {
	Failed    []RcptResult
	Delivered int
}

// Error lists the failed recipients with the server's words.
func (e *DeliveryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "smtp: %d of %d recipients failed", len(e.Failed), len(e.Failed)+e.Delivered)
	for i, f := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(e.Failed)-i)
			break
		}
		fmt.Fprintf(&b, "; <%s>: %v", f.Addr, strings.TrimPrefix(f.Err.Error(), "smtp: "))
	}
	return b.String()
}

// Unwrap returns the error of each failed recipient.
func (e *DeliveryError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}

// parseClientAddr parses an address given as "a@b.example", "<a@b.example>", "" or
// "<>" (the last two being the null path).
func parseClientAddr(s string, utf8 bool) (Mailbox, error) {
	if s == "" || s == "<>" {
		return Mailbox{}, nil
	}
	if s[0] == '<' {
		return ParsePath(s, utf8)
	}
	return ParseMailbox(s, utf8)
}

// mailOptions checks o against the server's extensions and returns the
// options to send: parameters the server does not know that are safe to leave
// out (SIZE, AUTH) are dropped; the others are an error. SMTPUTF8 is added
// when an address needs it and the server offers it (RFC 6531 §3.4).
func (c *Client) mailOptions(o *MailOptions, needUTF8 bool) (*MailOptions, error) {
	var m MailOptions
	if o != nil {
		m = *o
	}
	has := func(kw string) bool { _, ok := c.ext[kw]; return ok }
	if needUTF8 {
		m.UTF8 = true
	}
	if m.UTF8 && !has("SMTPUTF8") {
		return nil, unsupported("SMTPUTF8", "RFC 6531")
	}
	switch m.Body {
	case Body7Bit:
		// RFC 6152 §3: BODY= only to a server that offers 8BITMIME;
		// 7BIT is what the others assume.
		if !has("8BITMIME") {
			m.Body = ""
		}
	case Body8BitMIME:
		if !has("8BITMIME") {
			return nil, unsupported("8BITMIME", "RFC 6152")
		}
	case BodyBinaryMIME:
		if !has("BINARYMIME") || !c.chunking() {
			return nil, unsupported(c.missingBinary(), "RFC 3030")
		}
	}
	if (m.Return != "" || m.EnvelopeID != "") && !has("DSN") {
		return nil, unsupported("DSN", "RFC 3461")
	}
	if !has("SIZE") {
		m.Size = 0
	}
	// RFC 4954 §5: AUTH= only to servers that offer AUTH.
	if !has("AUTH") {
		m.Auth = nil
	}
	return &m, nil
}

// missingBinary names the extension BINARYMIME lacks: BINARYMIME itself,
// or CHUNKING, which it goes with (RFC 3030 §3).
func (c *Client) missingBinary() string {
	if _, ok := c.ext["BINARYMIME"]; !ok {
		return "BINARYMIME"
	}
	return "CHUNKING"
}

// canCarry reports whether the server takes a body of type body as it is.
func (c *Client) canCarry(body BodyType) bool {
	switch body {
	case Body8BitMIME:
		_, ok := c.ext["8BITMIME"]
		return ok
	case BodyBinaryMIME:
		_, ok := c.ext["BINARYMIME"]
		return ok && c.chunking()
	}
	return true
}

func (c *Client) checkRcptOptions(o *RcptOptions) error {
	if o == nil || (len(o.Notify) == 0 && o.OriginalRecipient == "") {
		return nil
	}
	if _, ok := c.ext["DSN"]; !ok {
		return unsupported("DSN", "RFC 3461")
	}
	return nil
}

func (c *Client) chunking() bool {
	_, ok := c.ext["CHUNKING"]
	return ok && !c.opts.NoChunking
}

func (c *Client) pipelining() bool {
	_, ok := c.ext["PIPELINING"]
	return ok && !c.opts.NoPipelining
}

// mailLine builds the MAIL command for from and o.
func (c *Client) mailLine(from string, o *MailOptions, needUTF8 bool) (string, *MailOptions, error) {
	mo, err := c.mailOptions(o, needUTF8)
	if err != nil {
		return "", nil, err
	}
	m, err := parseClientAddr(from, mo.UTF8)
	if err != nil {
		return "", nil, err
	}
	line, err := formatMail(m, mo, true)
	if err != nil {
		return "", nil, err
	}
	return line, mo, nil
}

// mailboxLine is mailLine for a Mailbox, which formatMail checks.
func (c *Client) mailboxLine(from Mailbox, o *MailOptions, needUTF8 bool) (string, *MailOptions, error) {
	mo, err := c.mailOptions(o, needUTF8)
	if err != nil {
		return "", nil, err
	}
	line, err := formatMail(from, mo, false)
	if err != nil {
		return "", nil, err
	}
	return line, mo, nil
}

func (c *Client) rcptMailboxLine(to Mailbox, o *RcptOptions, utf8 bool) (string, error) {
	if err := c.checkRcptOptions(o); err != nil {
		return "", err
	}
	return formatRcpt(to, o, utf8, false)
}

// Mail sends MAIL FROM (RFC 5321 §4.1.1.2), starting a mail transaction.
// from may be "" for the null reverse-path. Mail, Rcpt and Data run one
// command at a time; Send pipelines them.
func (c *Client) Mail(ctx context.Context, from string, o *MailOptions) error {
	if c.err != nil {
		return c.err
	}
	if c.inMail {
		return errors.New("smtp: Mail: a transaction is already open (call Reset)")
	}
	line, mo, err := c.mailLine(from, o, hasNonASCII(from))
	if err != nil {
		return err
	}
	if _, err := c.simple(ctx, 250, line); err != nil {
		return err
	}
	c.inMail, c.mailUTF8, c.mailBody, c.rcpts = true, mo.UTF8, mo.Body, c.rcpts[:0]
	return nil
}

// Rcpt sends RCPT TO (RFC 5321 §4.1.1.3) for one recipient. A refusal comes
// back as an *Error; the transaction goes on with the other recipients.
func (c *Client) Rcpt(ctx context.Context, to string, o *RcptOptions) error {
	if c.err != nil {
		return c.err
	}
	if !c.inMail {
		return errors.New("smtp: Rcpt without Mail")
	}
	m, err := parseClientAddr(to, c.mailUTF8)
	if err != nil {
		return err
	}
	line, err := c.rcptMailboxLine(m, o, c.mailUTF8)
	if err != nil {
		return err
	}
	if _, err := c.simple(ctx, 250, line); err != nil {
		return err
	}
	c.rcpts = append(c.rcpts, m)
	return nil
}

func (c *Client) endMail() {
	c.inMail, c.mailUTF8, c.mailBody, c.rcpts = false, false, "", c.rcpts[:0]
}

// Data starts the message data and returns a writer for it. With CHUNKING
// the data goes in BDAT chunks (RFC 3030), otherwise after DATA, dot-stuffed
// (RFC 5321 §4.5.2). Either way bare CR and LF become CR LF, except for
// BODY=BINARYMIME, which is sent as it is.
//
// Close ends the data and reads the server's reply: an *Error when the
// server refused the message. With LMTP it reads one reply per accepted
// recipient and returns a *DeliveryError when any failed. ctx covers the
// whole message, until Close.
func (c *Client) Data(ctx context.Context) (io.WriteCloser, error) {
	if c.err != nil {
		return nil, c.err
	}
	if !c.inMail {
		return nil, errors.New("smtp: Data without Mail")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done := c.arm(ctx)
	if c.chunking() {
		return &dataCloser{c: c, ctx: ctx, done: done, bw: c.newBdatWriter(ctx)}, nil
	}
	if c.mailBody == BodyBinaryMIME {
		done()
		return nil, unsupported("CHUNKING", "RFC 3030")
	}
	rep, err := c.cmd(ctx, append(c.line[:0], "DATA"...))
	if err != nil {
		done()
		return nil, err
	}
	if rep.Code != 354 {
		done()
		return nil, clientReplyError(rep)
	}
	return &dataCloser{c: c, ctx: ctx, done: done, dw: NewDotWriter(c.w)}, nil
}

// dataCloser is the writer Data returns.
type dataCloser struct {
	c      *Client
	ctx    context.Context
	done   func()
	dw     *DotWriter
	bw     *bdatWriter
	closed bool
}

func (d *dataCloser) Write(p []byte) (int, error) {
	if d.closed {
		return 0, ErrDotWriterClosed
	}
	if d.c.err != nil {
		return 0, d.c.err
	}
	if d.bw != nil {
		return d.bw.Write(p)
	}
	n, err := d.dw.Write(p)
	if err != nil {
		err = d.c.writeFailed(d.ctx, err)
	}
	return n, err
}

func (d *dataCloser) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	defer d.done()
	c := d.c
	rcpts := append([]Mailbox(nil), c.rcpts...)
	defer c.endMail()
	if c.err != nil {
		return c.err
	}
	var perRcpt []error
	var err error
	if d.bw != nil {
		_, perRcpt, err = d.bw.close()
	} else {
		if err := d.dw.Close(); err != nil {
			return c.writeFailed(d.ctx, err)
		}
		if err := c.flush(d.ctx); err != nil {
			return err
		}
		_, perRcpt, err = c.dataReplies(d.ctx)
	}
	if err != nil || perRcpt == nil {
		return err
	}
	return newDeliveryError(rcpts, perRcpt)
}

// newDeliveryError makes a *DeliveryError of LMTP's per-recipient replies, or
// nil when all succeeded.
func newDeliveryError(rcpts []Mailbox, errs []error) error {
	de := &DeliveryError{}
	for i, e := range errs {
		if e == nil {
			de.Delivered++
			continue
		}
		de.Failed = append(de.Failed, RcptResult{Addr: rcpts[i], Err: e})
	}
	if len(de.Failed) == 0 {
		return nil
	}
	return de
}

// dataReplies reads the reply to the end of the data. For SMTP that is one
// reply, returned with its error; for LMTP one per accepted recipient (RFC
// 2033 §4.2), returned in perRcpt, with the last reply.
func (c *Client) dataReplies(ctx context.Context) (last *Reply, perRcpt []error, err error) {
	if !c.opts.LMTP {
		rep, err := c.readReply(ctx)
		if err != nil {
			return nil, nil, err
		}
		if rep.Code/100 != 2 {
			return rep, nil, clientReplyError(rep)
		}
		return rep, nil, nil
	}
	perRcpt = make([]error, len(c.rcpts))
	for i := range c.rcpts {
		rep, err := c.readReply(ctx)
		if err != nil {
			return last, nil, err
		}
		last = rep
		if rep.Code/100 != 2 {
			perRcpt[i] = clientReplyError(rep)
		}
	}
	return last, perRcpt, nil
}

// bdatWriter sends message data in BDAT chunks (RFC 3030 §2). It buffers up
// to one chunk; with PIPELINING it sends chunks without waiting for each
// reply, but never leaves more than clientMaxPendingChunks replies unread.
type bdatWriter struct {
	c         *Client
	ctx       context.Context
	buf       []byte
	size      int
	normalize bool // bare CR and LF become CR LF (not for BINARYMIME)
	afterCR   bool // the last byte written was a CR, already sent as CR LF
	lineStart bool // the data so far ends with a line end (or is empty)
	pipeline  bool
	pending   int   // chunk replies not yet read
	err       error // a chunk was refused, the source or the connection failed
	refused   error // the first refusal of a chunk
	hdr       []byte
}

func (c *Client) newBdatWriter(ctx context.Context) *bdatWriter {
	return &bdatWriter{
		c:         c,
		ctx:       ctx,
		buf:       c.chunkBuf[:0], // grows to ChunkSize+2 at most, kept for reuse
		size:      c.opts.ChunkSize,
		normalize: c.mailBody != BodyBinaryMIME,
		lineStart: true,
		pipeline:  c.pipelining(),
	}
}

func (b *bdatWriter) Write(p []byte) (n int, err error) {
	if b.err != nil {
		return 0, b.err
	}
	for len(p) > 0 {
		if len(b.buf) >= b.size {
			if err := b.chunk(b.buf, false); err != nil {
				return n, err
			}
			b.buf = b.buf[:0]
		}
		room := b.size - len(b.buf)
		if !b.normalize {
			if len(b.buf) == 0 && len(p) >= b.size {
				// A whole chunk straight from the caller's slice.
				if err := b.chunk(p[:b.size], false); err != nil {
					return n, err
				}
				p, n = p[b.size:], n+b.size
				continue
			}
			k := min(room, len(p))
			b.buf = append(b.buf, p[:k]...)
			b.lineStart = p[k-1] == '\n'
			p, n = p[k:], n+k
			continue
		}
		seg := p[:min(room, len(p))]
		i := bytes.IndexAny(seg, "\r\n")
		if i < 0 {
			b.buf = append(b.buf, seg...)
			b.afterCR, b.lineStart = false, false
			p, n = p[len(seg):], n+len(seg)
			continue
		}
		if i > 0 {
			b.buf = append(b.buf, seg[:i]...)
			b.afterCR = false
		}
		if ch := seg[i]; ch == '\n' && b.afterCR {
			b.afterCR = false // the LF of a CR LF whose CR was sent as CR LF
		} else {
			if b.size-len(b.buf) < 2 {
				// Keep the chunk within size; CR LF starts the next one.
				if err := b.chunk(b.buf, false); err != nil {
					return n, err
				}
				b.buf = b.buf[:0]
			}
			b.buf = append(b.buf, '\r', '\n')
			b.afterCR = ch == '\r'
		}
		b.lineStart = true
		p, n = p[i+1:], n+i+1
	}
	return n, nil
}

// chunk sends one BDAT chunk.
func (b *bdatWriter) chunk(data []byte, last bool) error {
	c := b.c
	if c.err != nil {
		b.err = c.err
		return b.err
	}
	b.hdr = append(b.hdr[:0], "BDAT "...)
	b.hdr = strconv.AppendInt(b.hdr, int64(len(data)), 10)
	if last {
		b.hdr = append(b.hdr, " LAST"...)
	}
	b.hdr = append(b.hdr, "\r\n"...)
	c.w.Write(b.hdr)
	if _, err := c.w.Write(data); err != nil {
		b.err = c.writeFailed(b.ctx, err)
		return b.err
	}
	if last {
		return nil
	}
	b.pending++
	if b.pipeline && b.pending < clientMaxPendingChunks {
		return nil
	}
	if err := c.flush(b.ctx); err != nil {
		b.err = err
		return err
	}
	return b.readChunkReply()
}

// readChunkReply reads the reply to one chunk that was not the last. RFC 3030
// §2: after a refused chunk the client sends no more chunks.
func (b *bdatWriter) readChunkReply() error {
	rep, err := b.c.readReply(b.ctx)
	if err != nil {
		b.err = err
		return err
	}
	b.pending--
	if rep.Code/100 != 2 && b.refused == nil {
		b.refused = clientReplyError(rep)
		if b.err == nil {
			b.err = b.refused
		}
	}
	return b.err
}

// close sends the last chunk and reads the outstanding replies.
func (b *bdatWriter) close() (last *Reply, perRcpt []error, err error) {
	c := b.c
	defer func() { c.chunkBuf = b.buf[:0] }()
	if b.err == nil {
		if b.normalize && !b.lineStart {
			// Like the DATA form, end the last line (RFC 5321 §4.1.1.4).
			b.buf = append(b.buf, '\r', '\n')
		}
		b.chunk(b.buf, true)
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	if err := c.flush(b.ctx); err != nil {
		return nil, nil, err
	}
	for b.pending > 0 {
		if err := b.readChunkReply(); err != nil && c.err != nil {
			if b.refused != nil {
				// A server that refused a chunk may close at once:
				// the refusal says more than the lost connection.
				return nil, nil, b.refused
			}
			return nil, nil, err
		}
	}
	if b.err != nil {
		// RFC 3030 §2: the transaction state after a refused chunk is
		// indeterminate; RSET clears it.
		c.cmd(b.ctx, append(c.line[:0], "RSET"...))
		if b.refused != nil {
			return nil, nil, b.refused
		}
		return nil, nil, b.err
	}
	return c.dataReplies(b.ctx)
}

// clientExchange sends a raw line and reads one reply, ignoring its code.
func clientExchange(c *Client, ctx context.Context, line string) error {
	c.w.WriteString(line)
	if err := c.flush(ctx); err != nil {
		return err
	}
	_, err := c.readReply(ctx)
	return err
}

// clientErrWriter records the first write error, to tell it from a source error.
type clientErrWriter struct {
	w   io.Writer
	err error
}

func (e *clientErrWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}
