package smtp

import (
	"bytes"
	"errors"
	"io"

	"github.com/mailwire/mailwire/internal/textline"
)

// DotWriter writes message data in the DATA form of RFC 5321 §4.5.2: a dot at
// the start of a line is doubled, every line ends in CR LF, and Close ends the
// data with CRLF "." CRLF.
//
// Line ends are normalised: a bare LF or a bare CR in the input is written as
// CR LF, so the output never holds a bare line end that a receiver might take
// for the end of data (SMTP smuggling). Binary content needs BDAT instead.
type DotWriter struct {
	w     io.Writer
	state uint8
	err   error
}

const (
	dotBegin uint8 = iota // at the start of a line
	dotMid                // inside a line
	dotCR                 // after a CR not yet written
	dotClosed
)

// NewDotWriter returns a DotWriter writing to w. Wrap w in a bufio.Writer: the
// DotWriter makes many small writes.
func NewDotWriter(w io.Writer) *DotWriter { return &DotWriter{w: w} }

var (
	crlfBytes = []byte("\r\n")
	dotBytes  = []byte(".")
)

// ErrDotWriterClosed is returned by Write after Close.
var ErrDotWriterClosed = errors.New("smtp: write after DotWriter.Close")

// Write writes p, dot-stuffed and with line ends normalised to CR LF.
func (d *DotWriter) Write(p []byte) (n int, err error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.state == dotClosed {
		return 0, ErrDotWriterClosed
	}
	for len(p) > 0 {
		switch d.state {
		case dotCR:
			if err := d.write(crlfBytes); err != nil {
				return n, err
			}
			d.state = dotBegin
			if p[0] == '\n' {
				p = p[1:]
				n++
			}
			continue
		case dotBegin:
			// RFC 5321 §4.5.2: a line starting with "." gets another ".".
			if p[0] == '.' {
				if err := d.write(dotBytes); err != nil {
					return n, err
				}
			}
			d.state = dotMid
		}
		i := 0
		for i < len(p) && p[i] != '\r' && p[i] != '\n' {
			i++
		}
		if err := d.write(p[:i]); err != nil {
			return n, err
		}
		n += i
		if i == len(p) {
			return n, nil
		}
		if p[i] == '\n' {
			if err := d.write(crlfBytes); err != nil {
				return n, err
			}
			d.state = dotBegin
		} else {
			d.state = dotCR
		}
		p = p[i+1:]
		n++
	}
	return n, nil
}

func (d *DotWriter) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := d.w.Write(p)
	if err != nil {
		d.err = err
	}
	return err
}

// Close ends the last line if it is not ended and writes the end-of-data
// line ".". It does not close the underlying writer.
func (d *DotWriter) Close() error {
	if d.err != nil {
		return d.err
	}
	if d.state == dotClosed {
		return nil
	}
	if d.state != dotBegin {
		if err := d.write(crlfBytes); err != nil {
			return err
		}
	}
	d.state = dotClosed
	return d.write([]byte(".\r\n"))
}

// BareNewlinePolicy says what a server does with a bare CR or bare LF inside
// DATA. In no case does a bare line end end the data or count as a line start
// for the dot rule: the end of data is CR LF "." CR LF only (RFC 5321 §4.5.2,
// §2.3.8). That rules out SMTP smuggling, where a server and a relay in front of
// it disagree on where a message ends.
type BareNewlinePolicy uint8

const (
	// BareNewlineReject, the default, reads the data to its real end and then
	// refuses the message with "554 5.6.0"; the session goes on. The Session's
	// Data reader returns ErrBareNewline at the offending line, so a backend
	// never stores such a message. (Postfix's smtpd_forbid_bare_newline=yes
	// instead replies 521 and disconnects; refusing only the message keeps
	// legitimate clients' other mail flowing.)
	BareNewlineReject BareNewlinePolicy = iota
	// BareNewlineNormalize accepts the message and hands each bare CR or LF to
	// the Session as CR LF.
	BareNewlineNormalize
	// BareNewlineKeep accepts the message with the bare line ends as received.
	BareNewlineKeep
)

var (
	// ErrBareNewline is returned by a DATA reader under BareNewlineReject when
	// the message holds a bare CR or LF.
	ErrBareNewline = errors.New("smtp: bare CR or LF in message data")
	// ErrNUL is returned by a message reader when the data holds a NUL
	// octet and the Server does not allow it (Server.AllowNUL).
	ErrNUL = errors.New("smtp: NUL octet in message data")
	// ErrMessageTooLarge is returned by a message reader when the message
	// exceeds the server's MaxMessageBytes.
	ErrMessageTooLarge = errors.New("smtp: message exceeds the size limit")
)

// dataReader reads DATA content up to CRLF "." CRLF, removing dot-stuffing
// (RFC 5321 §4.5.2). It holds at most one line buffer in memory.
type dataReader struct {
	r       *textline.Reader
	policy  BareNewlinePolicy
	nulOK   bool  // NUL octets are let through
	nul     bool  // a NUL octet was seen, and is not let through
	max     int64 // 0: no limit
	n       int64 // bytes returned (after un-stuffing)
	pending []byte
	ending  []byte
	start   bool // at the start of a line: after CR LF, or at the beginning
	done    bool
	err     error // sticky error for the reader's consumer
	bare    bool  // a bare CR or LF was seen
	over    bool  // the size limit was exceeded
	ioErr   error // error from the connection
}

func newDataReader(r *textline.Reader, policy BareNewlinePolicy, nulOK bool, max int64) *dataReader {
	return &dataReader{r: r, policy: policy, nulOK: nulOK, max: max, start: true}
}

// next reads the next line into pending/ending. It returns false at the end of
// data or on a connection error.
func (d *dataReader) next() bool {
	if d.done {
		return false
	}
	line, end, err := d.r.ReadLine()
	if err != nil && !errors.Is(err, textline.ErrLineTooLong) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.ioErr = err
		d.done = true
		return false
	}
	if end == textline.EndNone && err == nil {
		// The stream ended inside a line.
		d.ioErr = io.ErrUnexpectedEOF
		d.done = true
		return false
	}
	if d.start && len(line) > 0 && line[0] == '.' {
		if len(line) == 1 && end == textline.EndCRLF {
			d.done = true
			return false
		}
		line = line[1:]
	}
	if !d.nulOK && bytes.IndexByte(line, 0) >= 0 {
		// RFC 2045 §2.7, §2.8 and RFC 6152 §2: neither 7bit nor 8bit
		// data holds NUL, and a relay that mishandles one may see a line
		// end, or an end of data, where there is none.
		d.nul = true
	}
	d.pending = line
	switch end {
	case textline.EndCRLF:
		d.ending = crlfBytes
	case textline.EndNone: // line longer than the buffer: more of it follows
		d.ending = nil
	default:
		d.bare = true
		if d.policy == BareNewlineNormalize {
			d.ending = crlfBytes
		} else {
			d.ending = end.Bytes()
		}
	}
	// A bare CR or LF does not start a line for the dot rule.
	d.start = end == textline.EndCRLF
	return true
}

func (d *dataReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	for len(d.pending) == 0 && len(d.ending) == 0 {
		if !d.next() {
			return 0, d.finalErr()
		}
		if d.bare && d.policy == BareNewlineReject {
			d.err = ErrBareNewline
			return 0, d.err
		}
		if d.nul {
			d.err = ErrNUL
			return 0, d.err
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	if n < len(p) && len(d.pending) == 0 {
		m := copy(p[n:], d.ending)
		d.ending = d.ending[m:]
		n += m
	}
	d.n += int64(n)
	if d.max > 0 && d.n > d.max {
		d.over = true
		d.err = ErrMessageTooLarge
		return 0, d.err
	}
	return n, nil
}

func (d *dataReader) finalErr() error {
	if d.ioErr != nil {
		d.err = d.ioErr
		return d.err
	}
	d.err = io.EOF
	return io.EOF
}

// drain consumes the rest of the data up to its end, so that the session stays
// in step with the client whatever the Session read. It keeps counting the size
// and noting bare line ends.
func (d *dataReader) drain() error {
	for {
		d.n += int64(len(d.pending) + len(d.ending))
		d.pending, d.ending = nil, nil
		if !d.next() {
			break
		}
	}
	if d.max > 0 && d.n > d.max {
		d.over = true
	}
	return d.ioErr
}
