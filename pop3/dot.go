package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/mailwire/mailwire/internal/textline"
)

// dotWriter writes the body of a multi-line response (RFC 1939 §3): every line
// that starts with "." gets another "." in front, every LF not preceded by a CR
// becomes CRLF (messages stored with bare LF go out with CRLF), and Close ends
// the response with "." CRLF, after a CRLF if the content did not end a line.
// A CR not followed by LF is passed through as data: it does not end a line,
// as for Dovecot. The writer streams: memory use does not depend on the size
// of what passes through.
type dotWriter struct {
	w      *bufio.Writer
	mid    bool // inside a line
	prevCR bool // the last byte written was a CR
}

func newDotWriter(w *bufio.Writer) *dotWriter { return &dotWriter{w: w} }

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	w := d.w
	for len(p) > 0 {
		if !d.mid {
			if p[0] == '.' {
				// RFC 1939 §3: byte-stuff the termination octet.
				w.WriteByte('.')
			}
			d.mid = true
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.Write(p)
			d.prevCR = p[len(p)-1] == '\r'
			break
		}
		if (i > 0 && p[i-1] == '\r') || (i == 0 && d.prevCR) {
			w.Write(p[:i+1])
		} else {
			w.Write(p[:i])
			w.WriteString("\r\n")
		}
		d.prevCR, d.mid = false, false
		p = p[i+1:]
	}
	// bufio.Writer keeps the first write error; report it now so that a
	// dead connection stops the copy early.
	if _, err := w.Write(nil); err != nil {
		return 0, err
	}
	return n, nil
}

// Close ends the last line if the content did not, and writes the terminator.
func (d *dotWriter) Close() error {
	if d.mid {
		d.w.WriteString("\r\n")
	}
	d.mid, d.prevCR = false, false
	_, err := d.w.WriteString(".\r\n")
	return err
}

// errTopDone stops the copy of a message for TOP once enough lines went out.
var errTopDone = errors.New("pop3: top done")

// topWriter passes through the header of a message, the blank line after it,
// and then at most lines lines of the body (RFC 1939 §7, TOP). It counts
// lines by LF; the dotWriter after it fixes line ends.
type topWriter struct {
	w      io.Writer
	body   bool
	empty  bool // the current header line is empty so far (ignoring CR)
	remain int
}

func newTopWriter(w io.Writer, lines int) *topWriter {
	return &topWriter{w: w, empty: true, remain: lines}
}

func (t *topWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if t.body {
			if t.remain <= 0 {
				return n - len(p), errTopDone
			}
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				_, err := t.w.Write(p)
				return n, err
			}
			t.remain--
			if _, err := t.w.Write(p[:i+1]); err != nil {
				return 0, err
			}
			p = p[i+1:]
			continue
		}
		i := 0
		for ; i < len(p); i++ {
			switch p[i] {
			case '\n':
				if t.empty {
					t.body = true
				}
				t.empty = true
			case '\r':
			default:
				t.empty = false
			}
			if t.body {
				i++
				break
			}
		}
		if _, err := t.w.Write(p[:i]); err != nil {
			return 0, err
		}
		p = p[i:]
	}
	return n, nil
}

// dotReader reads the body of a multi-line response and undoes the
// dot-stuffing. It returns io.EOF after the terminating line, and
// io.ErrUnexpectedEOF if the stream ends before it. Lines longer than the line
// reader's limit pass through in pieces, so memory stays bounded.
type dotReader struct {
	r       *textline.Reader
	pending []byte
	buf     []byte
	bol     bool
	err     error
}

func newDotReader(r *textline.Reader) *dotReader { return &dotReader{r: r, bol: true} }

func (d *dotReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		line, end, err := d.r.ReadLine()
		if err != nil && err != textline.ErrLineTooLong {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			d.err = err
			return 0, err
		}
		if err == nil && end == textline.EndNone {
			d.err = io.ErrUnexpectedEOF
			return 0, d.err
		}
		if d.bol && len(line) > 0 && line[0] == '.' {
			if len(line) == 1 && (end == textline.EndCRLF || end == textline.EndLF) {
				d.err = io.EOF
				return 0, io.EOF
			}
			line = line[1:]
		}
		d.buf = append(append(d.buf[:0], line...), end.Bytes()...)
		d.pending = d.buf
		d.bol = end == textline.EndCRLF || end == textline.EndLF
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// WriteTo lets io.Copy skip one copy.
func (d *dotReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(d.pending) == 0 {
			var one [0]byte
			if _, err := d.Read(one[:]); err != nil {
				if err == io.EOF {
					return total, nil
				}
				return total, err
			}
			if len(d.pending) == 0 {
				continue
			}
		}
		n, err := w.Write(d.pending)
		total += int64(n)
		d.pending = d.pending[n:]
		if err != nil {
			return total, err
		}
	}
}

// WireSize returns the size of the message read from r as RETR sends it,
// before dot-stuffing: the stored size plus one for every LF not preceded by
// a CR. Like Dovecot's virtual size and the ",W=" field of Maildir names, it
// does not count the CRLF the server adds before the terminator when the
// message does not end with a line end. It is the size RFC 1939 §5 wants in
// LIST and STAT, for backends that store messages with LF line ends and have
// no record of it.
func WireSize(r io.Reader) (int64, error) {
	var c textline.CRLFCounter
	if _, err := io.Copy(&c, r); err != nil {
		return 0, err
	}
	return c.N, nil
}
