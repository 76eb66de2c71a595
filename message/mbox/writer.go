package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrBadSender reports an envelope sender that cannot go in a separator line.
var ErrBadSender = errors.New("mbox: sender contains white space or control characters")

// Writer writes messages in mbox format. It streams each message from an
// io.Reader, quoting "From " lines as its Variant says.
type Writer struct {
	// Variant selects the quoting; the zero value is Mboxrd (mboxrd).
	Variant Variant

	w  *bufio.Writer
	br *bufio.Reader
}

// NewWriter returns a Writer writing to w. Call Flush when done.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, bufSize)}
}

// separatorTime formats t as RFC 4155 wants: UTC, ctime without a zone.
func separatorTime(t time.Time) string {
	return t.UTC().Format("Mon Jan _2 15:04:05 2006")
}

// WriteMessage writes one message: a separator line "From SENDER DATE", the
// content of r with "From " lines quoted, a line end if the content lacks
// a final one, and the empty line that terminates a message. An empty
// sender is written as MAILER-DAEMON; a zero date as the current time.
// Line ends are written as they come: the separator and terminator use LF.
func (w *Writer) WriteMessage(sender string, date time.Time, r io.Reader) error {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	if strings.ContainsFunc(sender, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		return fmt.Errorf("%w: %q", ErrBadSender, sender)
	}
	if date.IsZero() {
		date = time.Now()
	}
	if _, err := fmt.Fprintf(w.w, "From %s %s\n", sender, separatorTime(date)); err != nil {
		return err
	}
	if w.br == nil {
		w.br = bufio.NewReaderSize(r, bufSize)
	} else {
		w.br.Reset(r)
	}
	defer w.br.Reset(nil)
	lineStart, last := true, byte('\n')
	empty := true
	for {
		if lineStart {
			b, err := w.br.Peek(quoteWindow)
			if len(b) == 0 {
				if err != io.EOF {
					return err
				}
				break
			}
			if needsQuote(b, w.Variant) {
				if err := w.w.WriteByte('>'); err != nil {
					return err
				}
			}
			lineStart = false
		}
		if w.br.Buffered() == 0 {
			if _, err := w.br.Peek(1); err != nil {
				if err != io.EOF {
					return err
				}
				break
			}
		}
		b, _ := w.br.Peek(w.br.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
			lineStart = true
		}
		if _, err := w.w.Write(b); err != nil {
			return err
		}
		empty = false
		last = b[len(b)-1]
		w.br.Discard(len(b))
	}
	if !empty && last != '\n' {
		if err := w.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return w.w.WriteByte('\n')
}

// needsQuote reports whether the line starting b gets a '>'. For Mboxrd, a run
// of longQuote-1 or more '>' is quoted whatever follows, so that the reader,
// which looks only quoteWindow bytes ahead, can tell quoted lines from
// unquoted ones without seeing the end of the run.
func needsQuote(b []byte, v Variant) bool {
	if v != Mboxrd {
		return bytes.HasPrefix(b, []byte("From "))
	}
	i := 0
	for i < len(b) && b[i] == '>' {
		i++
	}
	return i >= longQuote-1 || bytes.HasPrefix(b[i:], []byte("From "))
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
