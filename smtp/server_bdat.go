package smtp

import (
	"bytes"
	"errors"
	"io"
	"time"
)

// errBDATAborted: a command other than BDAT came where the next chunk was due.
var errBDATAborted = errors.New("smtp: BDAT sequence interrupted by another command")

// bdatReader joins the chunks of a BDAT sequence (RFC 3030 §2) into one
// stream. Between chunks it acknowledges the chunk just read and reads the
// next command itself, so the Session's Data sees the whole message.
type bdatReader struct {
	c         *Conn
	remaining int64 // bytes left in the current chunk
	size      int64 // size of the current chunk
	last      bool
	total     int64
	max       int64
	over      bool
	checkNUL  bool  // refuse NUL octets: the body is not BINARYMIME
	nul       bool  // a NUL octet was refused
	err       error // sticky
	ioErr     error
}

func (b *bdatReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for b.remaining == 0 {
		if b.last {
			b.err = io.EOF
			return 0, io.EOF
		}
		if !b.nextChunk() {
			return 0, b.err
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.c.tr.Read(p)
	b.remaining -= int64(n)
	if b.checkNUL && bytes.IndexByte(p[:n], 0) >= 0 {
		// As in DATA (dataReader): only BINARYMIME may carry NUL.
		b.nul = true
		b.err = ErrNUL
		return 0, b.err
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		b.ioErr, b.err = err, err
		return n, err
	}
	return n, nil
}

// startChunk accounts for a new chunk of size bytes.
func (b *bdatReader) startChunk(size int64, last bool) {
	b.size, b.remaining, b.last = size, size, last
	b.total += size
	if b.max > 0 && b.total > b.max {
		b.over = true
		b.err = ErrMessageTooLarge
	}
}

// nextChunk acknowledges the finished chunk and reads the next BDAT command.
func (b *bdatReader) nextChunk() bool {
	c := b.c
	// RFC 3030 §2: a 250 reply to each successful chunk.
	c.reply(250, EnhancedCode{2, 0, 0}, "%d octets received", b.size)
	c.data = false
	line, st := c.readCommand()
	c.data = true
	if st == readClose {
		// readCommand has queued any reply due; the connection ends.
		c.quit = true
		b.err = io.ErrUnexpectedEOF
		return false
	}
	verb, arg := parseCommand(line)
	if verb != "BDAT" {
		if st == readLine {
			c.pending = &line
		}
		b.err = errBDATAborted
		return false
	}
	size, last, ok := parseBDAT(arg)
	if !ok {
		// The chunk size is unknown: the stream cannot be resynchronised.
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: BDAT size [LAST]")
		b.err = errBDATAborted
		return false
	}
	b.startChunk(size, last)
	return b.err == nil
}

// discardChunk discards the rest of the current chunk.
func (b *bdatReader) discardChunk() error {
	if b.ioErr != nil {
		return b.ioErr
	}
	for b.remaining > 0 {
		n, err := io.CopyN(io.Discard, readerFunc(b.c.tr.Read), b.remaining)
		b.remaining -= n
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			b.ioErr = err
			return err
		}
	}
	return nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func (c *Conn) bdatCmd(arg string) {
	size, last, ok := parseBDAT(arg)
	if !ok {
		// Without a valid size the chunk cannot be skipped; the client is
		// out of step, so close after replying.
		c.reply(501, EnhancedCode{5, 5, 4}, "Syntax: BDAT size [LAST]")
		c.quit = true
		return
	}
	if c.bdatFail || !c.readyForDataQuiet() {
		// RFC 3030 §2: accept and discard chunks following a failure.
		b := &bdatReader{c: c, remaining: size}
		c.data = true
		err := b.discardChunk()
		c.data = false
		if err != nil {
			c.readFailed(err)
			c.quit = true
			return
		}
		if c.bdatFail {
			c.reply(503, EnhancedCode{5, 5, 1}, "Previous BDAT failed; send RSET")
			if last {
				c.bdatFail = false
			}
			return
		}
		c.readyForData()
		return
	}
	c.bdat = true
	b := &bdatReader{c: c, max: c.srv.limits().MaxMessageBytes,
		checkNUL: !c.srv.AllowNUL && c.mailOpts.Body != BodyBinaryMIME}
	b.startChunk(size, last)
	c.data = true
	c.startData()
	defer func() { c.dataEnd = time.Time{} }()
	status, err := c.deliver(b)
	if b.err == nil && err == nil {
		// The Session returned without reading to the end: read the rest
		// of the sequence, acknowledging chunks, so the client stays in step.
		_, err = io.Copy(io.Discard, b)
		if errors.Is(err, errBDATAborted) {
			err = b.err
		}
	}
	if c.quit {
		c.data = false
		return
	}
	ioErr := b.discardChunk()
	c.data = false
	if ioErr != nil {
		c.readFailed(ioErr)
		c.quit = true
		return
	}
	if b.err == errBDATAborted {
		// Another command took the place of a chunk: the message is
		// abandoned; that command is handled next.
		c.reset()
		return
	}
	switch {
	case b.over:
		err, status = errTooLarge, nil
	case b.nul:
		err, status = errNULReply, nil
	}
	if err != nil && !b.last {
		// RFC 3030 §2: chunks already pipelined after the failed one are
		// discarded until RSET or the last chunk.
		c.bdatFail = true
	}
	if err == nil && !b.last {
		err = errors.New("smtp: BDAT sequence ended early")
	}
	if c.srv.LMTP && !b.last {
		// RFC 2033 §4.2 and RFC 3030 §2: only BDAT LAST earns a reply per
		// recipient; a chunk failing before it gets one reply, as
		// the client counts them.
		c.replyErr(err)
		c.reset()
		return
	}
	c.finishMessage(status, err)
}

// readyForDataQuiet is readyForData without replying.
func (c *Conn) readyForDataQuiet() bool { return c.from != nil && len(c.rcpts) > 0 }
