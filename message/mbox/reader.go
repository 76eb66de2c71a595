package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Variant selects how lines beginning with "From " inside messages are
// quoted.
type Variant int

const (
	// Mboxrd: the writer adds one '>' to every line matching
	// ^>*From , and the reader removes one from every such line, so any
	// content round-trips. It is the zero value and the default.
	Mboxrd Variant = iota
	// Mboxo: the writer turns "From " at the start of a line into
	// ">From " and the reader turns ">From " back into "From ". Lines that
	// began with ">From " before quoting lose their '>' when read; mboxo
	// is lossy, which is why mboxrd exists.
	Mboxo
)

// Limits with their defaults.
const (
	// MaxSeparator bounds the bytes of a "From " line kept in
	// Message.Separator; the rest of a longer line is read and discarded.
	MaxSeparator = 1000

	// quoteWindow is how far the reader and the writer look at the start of
	// a line for ">...>From ". So that arbitrarily long runs of '>' still
	// round-trip, a line starting with longQuote-1 or more '>' is always
	// quoted by the writer in mboxrd, and one starting with longQuote or
	// more always unquoted by the reader: both decide within the window.
	quoteWindow = 512
	longQuote   = quoteWindow - len("From ") + 1

	bufSize = 64 << 10
)

// ErrFormat reports input that is not an mbox: data before the first
// "From " line.
var ErrFormat = errors.New("mbox: not an mbox (no From line at start)")

// Reader reads messages from an mbox stream (RFC 4155). It streams: memory
// use is bounded by a 64 KB buffer whatever the size of the mailbox, its
// messages or its lines.
//
// A message starts after a separator line beginning with "From " and ends
// before the next separator or at the end of input; the empty line that
// precedes a separator (or the end) is the mbox terminator and not part of
// the message. Both LF and CRLF line ends are accepted and passed through.
type Reader struct {
	// Variant selects the unquoting of ">From " lines; the zero value is Mboxrd.
	Variant Variant

	// ContentLength makes the reader trust a Content-Length header field
	// (mboxcl, mboxcl2): the body is that many bytes, read without
	// unquoting. When no separator or end of input follows them, the
	// reader goes on looking for the next separator line from there; the
	// counted bytes have been handed out already, so a Content-Length
	// that is too large merges the messages it covers into this one. Off
	// by default, since the field is unreliable in mail that was not
	// written by the mbox writer.
	ContentLength bool

	// Strict accepts a "From " line as a separator only when it is the
	// first line or follows an empty line, and carries a sender and a date
	// as RFC 4155 Appendix A describes. Other "From " lines stay in the
	// message. Off by default: mboxo and mboxrd writers quote every
	// "From " line, so any line starting with "From " is a separator.
	Strict bool

	br    *bufio.Reader
	cur   *Message
	first bool
	err   error
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, bufSize), first: true}
}

// Message is one message of an mbox. It is an io.Reader of the message
// content (header and body, unquoted), valid until the next call of Next.
type Message struct {
	// Separator is the separator line without "From " and the line end,
	// truncated to MaxSeparator bytes.
	Separator string
	// Sender is the first word of the separator: the envelope sender.
	Sender string
	// Date is the separator's timestamp, or the zero time when it has none
	// this package can parse. Dates without a zone are UTC (RFC 4155).
	Date time.Time

	r          *Reader
	lineStart  bool   // the next byte begins a line
	blank      []byte // an empty line held back: it may be the terminator
	pend       []byte // bytes to hand out before reading on
	done       bool
	inHeader   bool
	clen       int64 // Content-Length found in the header, -1 if none
	remain     int64 // bytes left in Content-Length mode, -1 when off
	lastByte   byte
	prevBlank  bool // the previous line was empty (for Strict)
	pendBuffer [2]byte
}

// Next advances to the next message and returns it, or io.EOF after the
// last one. Whatever was left unread of the previous message is skipped.
func (r *Reader) Next() (*Message, error) {
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, r.cur); err != nil {
			r.err = err
		}
		r.cur = nil
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.first {
		r.first = false
		// Tolerate empty lines before the first separator.
		for {
			b, _ := r.br.Peek(2)
			if len(b) > 0 && b[0] == '\n' {
				r.br.Discard(1)
			} else if len(b) == 2 && b[0] == '\r' && b[1] == '\n' {
				r.br.Discard(2)
			} else {
				break
			}
		}
	}
	b, err := r.br.Peek(5)
	if len(b) == 0 {
		if err == io.EOF {
			err = io.EOF
		}
		r.err = err
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte("From ")) {
		r.err = ErrFormat
		return nil, r.err
	}
	line, err := r.readSeparator()
	if err != nil && err != io.EOF {
		r.err = err
		return nil, err
	}
	m := &Message{r: r, lineStart: true, inHeader: true, clen: -1, remain: -1}
	m.Separator = line
	m.Sender, m.Date = parseSeparator(line)
	r.cur = m
	return m, nil
}

// readSeparator consumes a "From " line, keeping at most MaxSeparator bytes.
func (r *Reader) readSeparator() (string, error) {
	var keep []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		if room := MaxSeparator + len("From ") + 2 - len(keep); room > 0 {
			keep = append(keep, chunk[:min(len(chunk), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		line := strings.TrimRight(string(keep), "\r\n")
		line = strings.TrimPrefix(line, "From ")
		if len(line) > MaxSeparator {
			line = line[:MaxSeparator]
		}
		return line, err
	}
}

// ctime layouts seen in separator lines, after runs of spaces are collapsed.
var separatorLayouts = []string{
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 2006 -0700",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04 2006",
	"Mon, 2 Jan 2006 15:04:05 -0700",
}

// parseSeparator splits "sender date" and parses the date leniently.
func parseSeparator(s string) (string, time.Time) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return "", time.Time{}
	}
	return f[0], parseCtime(strings.Join(f[1:], " "))
}

func parseCtime(s string) time.Time {
	for _, layout := range separatorLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	// "remote from host" (UUCP) and other trailers: try the first 5 words.
	if f := strings.Fields(s); len(f) > 5 {
		if t, err := time.Parse(separatorLayouts[0], strings.Join(f[:5], " ")); err == nil {
			return t
		}
	}
	return time.Time{}
}

// isSeparator reports whether the line starting b (a peek of at most
// quoteWindow bytes) ends the current message.
func (m *Message) isSeparator(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("From ")) {
		return false
	}
	if !m.r.Strict {
		return true
	}
	if !m.prevBlank {
		return false
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) >= quoteWindow {
			return false // too long to be a separator line
		}
		i = len(b) // separator at end of input
	}
	sender, date := parseSeparator(strings.TrimRight(string(b[len("From "):i]), "\r"))
	return sender != "" && !date.IsZero()
}

// quoted reports whether the line starting b carries a quoting '>'.
func (m *Message) quoted(b []byte) bool {
	if m.r.Variant != Mboxrd {
		return bytes.HasPrefix(b, []byte(">From "))
	}
	i := 0
	for i < len(b) && b[i] == '>' {
		i++
	}
	return i > 0 && (i >= longQuote || bytes.HasPrefix(b[i:], []byte("From ")))
}

func blankLen(b []byte) int {
	if len(b) > 0 && b[0] == '\n' {
		return 1
	}
	if len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
		return 2
	}
	return 0
}

// Read reads the message content.
func (m *Message) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	br := m.r.br
	for {
		if len(m.pend) > 0 {
			n := copy(p, m.pend)
			m.pend = m.pend[n:]
			m.lastByte = p[n-1]
			return n, nil
		}
		if m.done {
			return 0, io.EOF
		}
		if m.remain >= 0 {
			if n, err, again := m.readCounted(p); !again {
				return n, err
			}
			continue
		}
		if m.lineStart {
			b, err := br.Peek(quoteWindow)
			if len(b) == 0 {
				if err != io.EOF {
					m.r.err = err
					return 0, err
				}
				m.done = true // end of input drops a held empty line
				continue
			}
			if m.blank != nil && m.inHeader && m.clen >= 0 {
				// The empty line ends a header with Content-Length: the
				// counted body follows, even if it starts with "From ".
				m.pend, m.blank = m.blank, nil
				m.endHeader()
				continue
			}
			if m.isSeparator(b) {
				m.done = true
				continue
			}
			if n := blankLen(b); n > 0 {
				if m.blank != nil {
					// Hand out the earlier one first, then look again.
					m.pend, m.blank = m.blank, nil
					if m.inHeader {
						m.endHeader()
					}
					continue
				}
				// Hold it: an empty line before a separator is not ours.
				// pend is empty here, so pendBuffer is free.
				m.blank = append(m.pendBuffer[:0], b[:n]...)
				br.Discard(n)
				m.prevBlank = true
				continue
			}
			m.prevBlank = false
			if m.blank != nil {
				m.pend, m.blank = m.blank, nil
				if m.inHeader {
					m.endHeader()
				}
				continue
			}
			if m.inHeader && m.r.ContentLength {
				m.scanHeaderLine(b)
			}
			if m.quoted(b) {
				br.Discard(1)
			}
			m.lineStart = false
		}
		// Copy up to the end of the line.
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if err != io.EOF {
					m.r.err = err
					return 0, err
				}
				m.done = true // last line without a line end
				continue
			}
		}
		b, _ := br.Peek(min(br.Buffered(), len(p)))
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
			m.lineStart = true
		}
		n := copy(p, b)
		br.Discard(n)
		m.lastByte = p[n-1]
		return n, nil
	}
}

// endHeader is called when the empty line after the header goes out: in
// ContentLength mode the body that follows is counted, not scanned.
func (m *Message) endHeader() {
	m.inHeader = false
	if m.r.ContentLength && m.clen >= 0 {
		m.remain = m.clen
	}
}

// scanHeaderLine notes a Content-Length field.
func (m *Message) scanHeaderLine(b []byte) {
	const name = "content-length:"
	if len(b) < len(name) || !strings.EqualFold(string(b[:len(name)]), name) {
		return
	}
	v := b[len(name):]
	if i := bytes.IndexByte(v, '\n'); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	if err == nil && n >= 0 {
		m.clen = n
	}
}

// readCounted copies Content-Length bytes verbatim, then checks that a
// separator or the end follows; if not it falls back to line scanning.
func (m *Message) readCounted(p []byte) (n int, err error, again bool) {
	br := m.r.br
	if m.remain > 0 {
		if int64(len(p)) > m.remain {
			p = p[:m.remain]
		}
		n, err = br.Read(p)
		m.remain -= int64(n)
		if n > 0 {
			m.lastByte = p[n-1]
			return n, nil, false
		}
		if err == io.EOF {
			// Shorter than announced: the end of input ends the message.
			m.done = true
			return 0, io.EOF, false
		}
		m.r.err = err
		return 0, err, false
	}
	b, perr := br.Peek(len("\r\nFrom "))
	switch {
	case len(b) == 0 && perr == io.EOF:
		m.done = true
	case bytes.HasPrefix(b, []byte("From ")):
		m.done = true
	case bytes.HasPrefix(b, []byte("\nFrom ")):
		br.Discard(1)
		m.done = true
	case bytes.HasPrefix(b, []byte("\r\nFrom ")):
		br.Discard(2)
		m.done = true
	case blankLen(b) > 0 && len(b) == blankLen(b) && perr == io.EOF:
		br.Discard(len(b)) // terminator at the end of input
		m.done = true
	default:
		// Content-Length was wrong: scan for the separator from here.
		m.remain = -1
		m.lineStart = m.lastByte == '\n'
		m.prevBlank = false
	}
	return 0, nil, true
}

// String returns a short description of the message for logs.
func (m *Message) String() string { return fmt.Sprintf("mbox message from %s", m.Sender) }
