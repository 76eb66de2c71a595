package message

import (
	"bufio"
	"bytes"
	"io"
)

// HeaderOverflow describes a header that ReadHeaderWithin cut short at a limit.
type HeaderOverflow struct {
	// Err is the error ReadHeader returns for the same header: the limit
	// exceeded (ErrHeaderTooLarge, ErrTooManyFields or ErrLineTooLong) and
	// the line where it was.
	Err *HeaderError
	// Skipped counts the bytes of the header read and not kept: the
	// field cut and those after it. The blank line that ends the header
	// is not counted.
	Skipped int64
	// Lines counts the line feeds read: the lines of the whole header,
	// the blank line that ends it included.
	Lines int
}

// ReadHeaderWithin reads a header from br as ReadHeader does, and returns the
// same header, with a nil *HeaderOverflow, when the header is within lim. When it
// is not, ReadHeaderWithin returns no error: it keeps the fields that come
// before the first limit exceeded (whole fields only, as RFC 5322 §2.2
// delimits them, folded lines included), reads the rest of the header
// through br without keeping it, and leaves br at the first byte of the body
// (RFC 5322 §3.5: after the blank line that ends the header), where
// ReadHeader would have left it with no limits. The HeaderOverflow returned
// then tells what was cut. A line that ends the header other than with a
// blank line is recorded in the header's Defects with its line number in
// the whole header. The error returned is only one reading br.
//
// It exists for readers of many headers in one stream, such as the parts
// of a MIME message: ReadHeader's error leaves the reader inside the
// header, so that one part over a limit would cost the parts after it.
// Memory stays within lim (and br's buffer) however long the header is.
func ReadHeaderWithin(br *bufio.Reader, lim Limits) (*Header, *HeaderOverflow, error) {
	lim = lim.withDefaults()
	h := &Header{parsed: true}
	fits, err := headerFits(br, lim)
	if err != nil {
		return nil, nil, err
	}
	if fits {
		data, _ := br.Peek(br.Buffered())
		if n, st := h.parseBuffered(data, lim, false); st == parsed {
			br.Discard(n)
			return h, nil, nil
		}
	}
	cut := new(HeaderOverflow)
	if err := readLines(br, lim, h, cut); err != nil {
		return nil, nil, err
	}
	if cut.Err == nil {
		return h, nil, nil
	}
	return h, cut, nil
}

// headerFits reports whether the header at the head of br lies in its
// buffer wholly and within lim, so that it can be parsed where it lies,
// reading more input into the buffer as it needs. It is conservative:
// false sends the header to the line reader, which reads any header. It
// waits for more input only while the buffered bytes do not settle the
// question.
func headerFits(br *bufio.Reader, lim Limits) (bool, error) {
	pos, lines := 0, 0
	searched := 0 // data[pos:searched] has no line feed
	for {
		data, _ := br.Peek(br.Buffered())
		for pos < len(data) {
			c := data[pos]
			if c == '\n' || c == '\r' {
				// A blank line ends the header, and so does a line
				// starting with a bare CR.
				return true, nil
			}
			// Input trickling in must not make the search of a long
			// line quadratic: search only what is new.
			nl := bytes.IndexByte(data[max(pos, searched):], '\n')
			if nl < 0 {
				searched = len(data)
				if len(data)-pos > lim.MaxLineLength+1 || len(data) > lim.MaxHeaderBytes {
					return false, nil // over a limit, or about to be
				}
				break
			}
			nl += max(pos, searched) - pos
			if c != ' ' && c != '\t' && bytes.IndexByte(data[pos:pos+nl], ':') < 0 {
				// Not a field: the header ends before this line.
				return true, nil
			}
			if nl > lim.MaxLineLength {
				return false, nil
			}
			if lines++; lines > lim.MaxFields {
				return false, nil
			}
			if pos += nl + 1; pos > lim.MaxHeaderBytes {
				return false, nil
			}
		}
		n := len(data)
		if n >= br.Size() {
			return false, nil
		}
		more, err := br.Peek(n + 1)
		if len(more) <= n {
			if err == io.EOF {
				return false, nil // the line reader ends the header at EOF
			}
			return false, &HeaderError{Line: lines + 1, Err: err}
		}
	}
}

// begin records the limit err, exceeded on the line being read, and drops
// the field that line belongs to, which starts at start in buf or, for a
// continuation line (cont), is the last of fields: only whole fields are
// kept. It returns buf and fields without that field.
func (c *HeaderOverflow) begin(h *Header, err *HeaderError, buf []byte, fields []field, start int, cont bool) ([]byte, []field) {
	c.Err = err
	if cont {
		start = int(fields[len(fields)-1].start)
		fields = fields[:len(fields)-1]
	}
	h.crlfs -= int32(bytes.Count(buf[start:], crlf))
	if len(fields) == 0 {
		// The only defect recorded before the cut is that of a
		// continuation line starting the header, a field now dropped.
		h.defects = nil
	}
	return buf[:start], fields
}

// skipLine reads the rest of the physical line at the head of br without
// keeping it, however long it is. It returns the bytes read and whether
// the input ended before a line feed.
func skipLine(br *bufio.Reader) (n int64, eof bool, err error) {
	for {
		s, err := br.ReadSlice('\n')
		n += int64(len(s))
		switch err {
		case nil:
			return n, false, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return n, true, nil
		default:
			return n, false, err
		}
	}
}
