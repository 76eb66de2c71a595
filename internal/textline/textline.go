// Package textline reads protocol lines with a bound on their length and reports
// how each line ended, so that every protocol can apply its own policy to bare CR
// and bare LF. SMTP, for one, must never let a bare LF end a line for the purpose
// of end-of-data detection (RFC 5321 §4.5.2, §2.3.8).
package textline

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Ending says how a line ended.
type Ending uint8

const (
	// EndNone: no line end was read, because the stream ended or the line was
	// longer than the limit.
	EndNone Ending = iota
	// EndCRLF: the line ended in CR LF.
	EndCRLF
	// EndLF: the line ended in a LF with no CR before it.
	EndLF
	// EndCR: the line ended in a CR with no LF after it.
	EndCR
)

// String returns the ending's bytes as a Go-quoted name, for logs and errors.
func (e Ending) String() string {
	switch e {
	case EndCRLF:
		return "CRLF"
	case EndLF:
		return "LF"
	case EndCR:
		return "CR"
	}
	return "none"
}

// Bytes returns the bytes of the ending ("" for EndNone).
func (e Ending) Bytes() []byte {
	switch e {
	case EndCRLF:
		return crlf
	case EndLF:
		return crlf[1:]
	case EndCR:
		return crlf[:1]
	}
	return nil
}

var crlf = []byte("\r\n")

// ErrLineTooLong is returned by ReadLine when a line is longer than the limit.
var ErrLineTooLong = errors.New("textline: line too long")

// Reader reads lines of at most a fixed length from a buffered stream.
// It is not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	max  int
	line []byte
}

// NewReader returns a Reader that reads lines of at most max bytes, not counting
// the line ending, from r. A max below 1 is taken as 1.
func NewReader(r io.Reader, max int) *Reader {
	if max < 1 {
		max = 1
	}
	size := 4096
	if max+2 < size {
		size = max + 2
		if size < 16 {
			size = 16
		}
	}
	return &Reader{br: bufio.NewReaderSize(r, size), max: max}
}

// Reset discards any buffered data and makes the Reader read from r.
// STARTTLS and STLS use it: input buffered before the handshake must not survive it.
func (r *Reader) Reset(rd io.Reader) {
	r.br.Reset(rd)
	r.line = r.line[:0]
}

// Max returns the line length limit.
func (r *Reader) Max() int { return r.max }

// SetMax changes the line length limit for subsequent reads.
func (r *Reader) SetMax(max int) {
	if max < 1 {
		max = 1
	}
	r.max = max
}

// Buffered returns the number of bytes that have been read from the underlying
// stream but not yet returned.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// ReadLine returns the next line without its ending, and the ending.
//
// A line longer than the limit yields its first Max bytes, EndNone and
// ErrLineTooLong; the rest of the line stays unread, so the caller may either read
// it as further lines or call SkipLine. A last line that the stream ends without an
// ending is returned with EndNone and a nil error; the next call returns io.EOF.
//
// The returned slice is valid until the next call on r.
func (r *Reader) ReadLine() (line []byte, end Ending, err error) {
	r.line = r.line[:0]
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				if err == io.EOF && len(r.line) > 0 {
					return r.line, EndNone, nil
				}
				return r.line, EndNone, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		room := r.max - len(r.line)
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 && len(buf) <= room {
			r.line = append(r.line, buf...)
			r.br.Discard(len(buf))
			continue
		}
		if i < 0 || i > room {
			r.line = append(r.line, buf[:room]...)
			r.br.Discard(room)
			return r.line, EndNone, ErrLineTooLong
		}
		r.line = append(r.line, buf[:i]...)
		r.br.Discard(i)
		end, err := r.readEnding()
		return r.line, end, err
	}
}

// readEnding consumes a line ending whose first byte is next in the buffer.
func (r *Reader) readEnding() (Ending, error) {
	c, err := r.br.ReadByte()
	if err != nil {
		return EndNone, err
	}
	if c == '\n' {
		return EndLF, nil
	}
	next, err := r.br.Peek(1)
	if err == nil && next[0] == '\n' {
		r.br.Discard(1)
		return EndCRLF, nil
	}
	if err != nil && err != io.EOF {
		return EndNone, err
	}
	return EndCR, nil
}

// SkipLine discards input up to and including the next line ending (CR LF, LF
// or CR) and returns the ending and how many bytes it discarded before it. It
// holds no more than the buffer in memory, however long the line.
func (r *Reader) SkipLine() (end Ending, skipped int64, err error) {
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				return EndNone, skipped, err
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		i := bytes.IndexAny(buf, "\r\n")
		if i < 0 {
			r.br.Discard(len(buf))
			skipped += int64(len(buf))
			continue
		}
		r.br.Discard(i)
		skipped += int64(i)
		end, err := r.readEnding()
		return end, skipped, err
	}
}

// Read reads raw bytes, for protocol phases that are not line oriented (BDAT
// chunks, IMAP literals). It returns buffered bytes first.
func (r *Reader) Read(p []byte) (int, error) { return r.br.Read(p) }

// ReadByte reads one raw byte.
func (r *Reader) ReadByte() (byte, error) { return r.br.ReadByte() }

// Peek returns the next n bytes without consuming them; see bufio.Reader.Peek.
func (r *Reader) Peek(n int) ([]byte, error) { return r.br.Peek(n) }
