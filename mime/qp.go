package mime

import (
	"bytes"
	"errors"
	"io"
)

// QPDecoder decodes a quoted-printable body (RFC 2045 §6.7) as a stream.
// Soft line breaks are removed, trailing white space on each line is deleted
// (rule 3), and line breaks are passed through as they are (CRLF or LF). A
// '=' not followed by two hex digits or a line break is kept literally and
// recorded as a Defect, as §6.7 suggests; lower-case hex digits are accepted.
type QPDecoder struct {
	r          io.Reader
	buf        []byte
	start, end int
	scanned    int    // buf[start:scanned] holds no line feed
	out        []byte // decoded bytes not yet returned
	outBuf     []byte
	err        error
	defects    []Defect
}

// NewQPDecoder returns a decoder reading quoted-printable text from r.
func NewQPDecoder(r io.Reader) *QPDecoder {
	return &QPDecoder{r: r, buf: make([]byte, decodeBlock)}
}

// Reset makes d read from r, keeping its buffers.
func (d *QPDecoder) Reset(r io.Reader) {
	*d = QPDecoder{r: r, buf: d.buf, outBuf: d.outBuf}
}

// Defects returns the malformations seen so far.
func (d *QPDecoder) Defects() []Defect { return d.defects }

// Read reads decoded bytes; it returns io.EOF at the end of the input.
func (d *QPDecoder) Read(p []byte) (int, error) {
	for {
		if len(d.out) > 0 {
			n := copy(p, d.out)
			d.out = d.out[n:]
			return n, nil
		}
		if len(p) == 0 {
			return 0, nil
		}
		if d.start == d.end && d.err != nil {
			return 0, d.err
		}
		// Decode complete lines; decoded text is never longer than its
		// encoding, so anything that fits in p raw fits decoded.
		data := d.buf[d.start:d.end]
		// Search only bytes not searched before: with a source that
		// returns a few bytes per Read, rescanning a long line each
		// time would cost quadratic time.
		from := max(d.scanned-d.start, 0)
		last := bytes.LastIndexByte(data[from:], '\n')
		if last >= 0 {
			last += from
		} else {
			d.scanned = d.end
		}
		var chunk []byte
		final := false
		switch {
		case last >= 0:
			chunk = data[:last+1]
		case d.err != nil:
			chunk, final = data, true
		case d.start == 0 && d.end == len(d.buf):
			// A line longer than the buffer: decode up to a safe point,
			// leaving a possible '=XX' or trailing white space for later.
			cut := len(data)
			for range 2 {
				for cut > 0 && (data[cut-1] == ' ' || data[cut-1] == '\t') {
					cut--
				}
				if cut > 0 && data[cut-1] == '=' {
					cut--
				} else if cut > 1 && data[cut-2] == '=' {
					cut -= 2
				}
			}
			if cut == 0 {
				cut = len(data) // nothing safe: decode as it is
			}
			chunk = data[:cut]
		}
		if chunk == nil {
			if err := d.fill(); err != nil && d.start == d.end {
				return 0, err
			}
			continue
		}
		dst := p
		if len(chunk) > len(p) {
			// Trim to whole lines that fit, or use the side buffer.
			if i := bytes.LastIndexByte(chunk[:len(p)], '\n'); i >= 0 {
				chunk = chunk[:i+1]
				final = false
			} else {
				if cap(d.outBuf) < len(chunk) {
					d.outBuf = make([]byte, max(len(chunk), decodeBlock))
				}
				dst = d.outBuf[:cap(d.outBuf)]
			}
		}
		n := d.decode(dst, chunk, final)
		d.start += len(chunk)
		if d.start == d.end {
			d.start, d.end, d.scanned = 0, 0, 0
		}
		if n == 0 {
			continue
		}
		if &dst[0] == &p[0] {
			return n, nil
		}
		d.out = dst[:n]
	}
}

// fill reads more input, moving unread bytes to the front first.
func (d *QPDecoder) fill() error {
	if d.err != nil {
		return d.err
	}
	if d.start > 0 {
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.scanned = max(d.scanned-d.start, 0)
		d.start = 0
	}
	n, err := d.r.Read(d.buf[d.end:])
	d.end += n
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.EOF
		}
		d.err = err
	}
	return nil
}

// decode decodes src, which ends at a line break unless final (the end of
// the input) or it is a safe prefix of an over-long line, into dst.
func (d *QPDecoder) decode(dst, src []byte, final bool) int {
	w := 0
	for len(src) > 0 {
		// One line (or the unterminated rest).
		nl := bytes.IndexByte(src, '\n')
		var line, eol []byte
		if nl < 0 {
			line, src = src, nil
		} else {
			line, eol, src = src[:nl], src[nl:nl+1], src[nl+1:]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line, eol = line[:len(line)-1], []byte("\r\n")
			}
		}
		// RFC 2045 §6.7 rule 3: trailing white space is padding.
		if eol != nil || final {
			for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
				line = line[:len(line)-1]
			}
		}
		soft := false
		for len(line) > 0 {
			i := bytes.IndexByte(line, '=')
			if i < 0 {
				w += copy(dst[w:], line)
				break
			}
			w += copy(dst[w:], line[:i])
			line = line[i:]
			switch {
			case len(line) >= 3 && isHex(line[1]) && isHex(line[2]):
				dst[w] = unhex(line[1])<<4 | unhex(line[2])
				w++
				line = line[3:]
			case len(line) == 1 && (eol != nil || final):
				// Soft line break (rule 5).
				soft = true
				line = nil
			default:
				if len(d.defects) < maxDefects {
					d.defects = append(d.defects, Defect{Kind: DefectBadQuotedPrintable, Detail: string(line[:min(3, len(line))])})
				}
				dst[w] = '='
				w++
				line = line[1:]
			}
		}
		if !soft {
			w += copy(dst[w:], eol)
		}
	}
	return w
}

// qpSafe marks bytes written literally by the encoder (RFC 2045 §6.7 rule 2),
// less '=' and the few punctuation characters EBCDIC gateways mangle, which
// RFC 2045 says may be encoded for robustness.
var qpSafe [256]bool

func init() {
	for c := '!'; c <= '~'; c++ {
		qpSafe[c] = true
	}
	qpSafe['='] = false
}

// QPEncoder encodes to quoted-printable (RFC 2045 §6.7): lines of at most 76
// characters with soft line breaks, trailing white space encoded, and "From "
// and "." at the start of a line encoded so that mbox and SMTP handling
// cannot alter the text, and "-" there too so that no line of the encoding
// can be taken for a multipart delimiter. In text mode, each CRLF in the input becomes a
// hard line break, and a bare CR or LF is encoded (=0D, =0A), so that the
// decoded bytes are exactly the input; normalise text to CRLF first to get
// readable lines. In binary mode every CR and LF is encoded. Close must be
// called to flush the last line.
type QPEncoder struct {
	w      io.Writer
	binary bool
	out    []byte
	line   []byte // the current output line, without its line break
	cr     bool   // text mode: a CR is pending
	err    error
}

// NewQPEncoder returns an encoder writing quoted-printable to w. binary
// selects binary mode (see QPEncoder).
func NewQPEncoder(w io.Writer, binary bool) *QPEncoder {
	return &QPEncoder{w: w, binary: binary, out: make([]byte, 0, 8<<10), line: make([]byte, 0, 80)}
}

const qpLineMax = 76

// Write encodes p. Output is written in blocks; Close writes the rest.
func (e *QPEncoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	for _, c := range p {
		if !e.binary {
			if e.cr {
				e.cr = false
				if c == '\n' {
					e.hardBreak()
					continue
				}
				e.encodeByte('\r')
			}
			if c == '\r' {
				e.cr = true
				continue
			}
		}
		e.encodeByte(c)
		if len(e.out) >= cap(e.out)-100 {
			if err := e.flush(); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

func (e *QPEncoder) encodeByte(c byte) {
	const hex = "0123456789ABCDEF"
	lit := qpSafe[c] || c == ' ' || c == '\t'
	if lit && len(e.line) == 0 && (c == '.' || c == '-') {
		// '-' so that no encoded line can look like a multipart
		// delimiter, whatever the boundary.
		lit = false
	}
	if c == ' ' && len(e.line) == 4 && string(e.line) == "From" {
		// Encode the F instead: rewrite the line.
		e.line = append(e.line[:0], "=46rom"...)
	}
	n := 1
	if !lit {
		n = 3
	}
	// Leave room for the soft break '=' (rule 5).
	if len(e.line)+n > qpLineMax-1 {
		e.out = append(e.out, e.line...)
		e.out = append(e.out, "=\r\n"...)
		e.line = e.line[:0]
		if c == '.' || c == '-' {
			lit, n = false, 3
		}
	}
	if lit {
		e.line = append(e.line, c)
	} else {
		e.line = append(e.line, '=', hex[c>>4], hex[c&15])
	}
}

// hardBreak ends a line, encoding white space at its end (rule 3).
func (e *QPEncoder) hardBreak() {
	e.encodeTrailingSpace()
	e.out = append(e.out, e.line...)
	e.out = append(e.out, "\r\n"...)
	e.line = e.line[:0]
}

func (e *QPEncoder) encodeTrailingSpace() {
	if n := len(e.line); n > 0 && (e.line[n-1] == ' ' || e.line[n-1] == '\t') {
		c := e.line[n-1]
		e.line = e.line[:n-1]
		if len(e.line)+3 > qpLineMax-1 {
			e.out = append(e.out, e.line...)
			e.out = append(e.out, "=\r\n"...)
			e.line = e.line[:0]
		}
		if c == ' ' {
			e.line = append(e.line, "=20"...)
		} else {
			e.line = append(e.line, "=09"...)
		}
	}
}

func (e *QPEncoder) flush() error {
	if len(e.out) == 0 {
		return e.err
	}
	_, err := e.w.Write(e.out)
	e.out = e.out[:0]
	if err != nil && e.err == nil {
		e.err = err
	}
	return e.err
}

// Close writes the last line. It does not close the underlying writer.
func (e *QPEncoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if e.cr {
		e.cr = false
		e.encodeByte('\r')
	}
	e.encodeTrailingSpace()
	e.out = append(e.out, e.line...)
	e.line = e.line[:0]
	return e.flush()
}
