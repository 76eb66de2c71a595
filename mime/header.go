package mime

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/mailwire/mailwire/message"
)

// headerLimits fills in the defaults of message.Limits as message.ReadHeader
// does, so that the reader can check a header against them beforehand.
func headerLimits(l message.Limits) message.Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = message.DefaultMaxHeaderBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = message.DefaultMaxFields
	}
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = message.DefaultMaxLineLength
	}
	l.MaxHeaderBytes = min(l.MaxHeaderBytes, 1<<30)
	l.MaxLineLength = min(l.MaxLineLength, 1<<30)
	return l
}

// headerCut records a header that exceeded a limit: the error
// message.ReadHeader would have returned, and how much was dropped.
type headerCut struct {
	err       *message.HeaderError
	skipped   int64 // header bytes read and not kept
	keptLines int   // lines of the fields kept
	endLine   int   // the line that ended the header
}

// appendHeaderDefects appends to ds, in line order, the repairs
// message.ReadHeader made in h (a line that is not a field ending the
// header, say) and the limit that cut it.
func appendHeaderDefects(ds []Defect, hd []message.Defect, fields int, cut *headerCut) []Defect {
	pending := cut != nil
	for _, d := range hd {
		if cut != nil && d.Line > cut.keptLines {
			// What ended a cut header was read past the fields
			// kept: give its line in the whole header.
			d.Line = cut.endLine
		}
		if pending && d.Line > cut.err.Line {
			ds = append(ds, cut.defect(fields))
			pending = false
		}
		ds = append(ds, Defect{Kind: DefectHeader, Detail: d.String()})
	}
	if pending {
		ds = append(ds, cut.defect(fields))
	}
	return ds
}

// headerDefects returns the repairs message.ReadHeader made in h, the
// header just read, but one: a header that ends on the delimiter line of an
// open multipart, without a blank line, is no defect, as RFC 2046 §5.1.1
// allows a body part with neither header nor body ("--b" CRLF "--b").
func (r *Reader) headerDefects(h *message.Header) []message.Defect {
	hd := h.Defects()
	if len(hd) == 0 || len(r.stack) == 0 {
		return hd
	}
	lines := 0
	for i := range h.Len() {
		lines += bytes.Count(h.Field(i).Raw, []byte{'\n'})
	}
	if hd[len(hd)-1].Line <= lines || !r.atDelimiter() {
		return hd
	}
	return hd[:len(hd)-1]
}

// atDelimiter reports whether the line at the head of the buffer is a
// delimiter of an open multipart.
func (r *Reader) atDelimiter() bool {
	n := 0
	for _, f := range r.stack {
		n = max(n, len(f.delim))
	}
	buf, err := r.br.Peek(n + 4) // "--", padding or a line break
	st, _, _ := r.matchAt(buf, 0, err != nil)
	return st == matchYes
}

func (c *headerCut) defect(kept int) Defect {
	what := strings.TrimPrefix(c.err.Err.Error(), "message: ")
	return Defect{Kind: DefectHeader, Detail: fmt.Sprintf("line %d: %s; %d fields kept, %d bytes skipped", c.err.Line, what, kept, c.skipped)}
}

// readHeader reads a part's header. A header over a limit is not an error:
// it comes back cut, with the fields before the limit, and the reader is
// past the rest of it. Only an error reading the input is returned.
func (r *Reader) readHeader() (h *message.Header, cut *headerCut, err error) {
	fits, err := r.headerFits()
	if err != nil {
		return nil, nil, err
	}
	if !fits {
		return r.readLongHeader()
	}
	start := r.offset()
	h, err = message.ReadHeader(r.br, r.hlim)
	if err != nil {
		// headerFits is conservative, so only a read error is
		// possible here.
		return nil, nil, err
	}
	if r.CountLines {
		var raw int64
		for i := range h.Len() {
			f := h.Field(i).Raw
			raw += int64(len(f))
			r.nl += int64(bytes.Count(f, []byte{'\n'}))
		}
		if r.offset()-start > raw {
			r.nl++ // the blank line, unless the header ended otherwise
		}
	}
	return h, nil, nil
}

// headerFits reports whether the header at the head of the buffer lies in
// it wholly and within the limits, so that message.ReadHeader reads it
// (quickly) without error. It is conservative: false sends the header to
// readLongHeader, which reads any header. Like message.ReadHeader, it waits
// for more input only while the buffered bytes do not settle the question.
func (r *Reader) headerFits() (bool, error) {
	lim := r.hlim
	pos, lines := 0, 0
	searched := 0 // data[pos:searched] has no line feed
	for {
		data, _ := r.br.Peek(r.br.Buffered())
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
		if n >= bufSize {
			return false, nil
		}
		more, err := r.br.Peek(n + 1)
		if len(more) <= n {
			if err == io.EOF {
				return false, nil // readLongHeader ends the header at EOF
			}
			return false, &message.HeaderError{Line: lines + 1, Err: err}
		}
	}
}

// readLongHeader reads a header line by line, with the rules of
// message.ReadHeader: for a header that does not lie wholly in the buffer,
// that the input ends inside, or that exceeds a limit. It keeps the fields
// that come before the first limit exceeded, and reads the rest of the
// header through the buffer without keeping it, so that a header of any
// size costs no more memory than the limits allow. The fields kept are then
// parsed by message.ReadHeader.
func (r *Reader) readLongHeader() (*message.Header, *headerCut, error) {
	lim := r.hlim
	start := r.offset()
	var (
		kept       []byte
		cut        *headerCut
		end        string // what ended the header, for message.ReadHeader to see
		fields     int
		line       int
		fieldStart int // where the last field starts in kept
	)
	limit := func(err error) {
		cut = &headerCut{err: &message.HeaderError{Line: line, Err: err}}
		kept = kept[:fieldStart] // never keep part of a field
	}
lines:
	for {
		line++
		p, err := r.br.Peek(1)
		if len(p) == 0 {
			if err == io.EOF {
				break
			}
			return nil, nil, &message.HeaderError{Line: line, Err: err}
		}
		c := p[0]
		switch c {
		case '\n':
			r.discardHeader(1)
			end = "\n"
			break lines
		case '\r':
			p, _ = r.br.Peek(2)
			if len(p) == 2 && p[1] == '\n' {
				r.discardHeader(2)
				end = "\r\n"
				break lines
			}
			// A bare CR ends the header; the line is read as body.
			end = "\rx"
			break lines
		}
		wsp := c == ' ' || c == '\t'
		if !wsp {
			colon := findColon(r.br)
			if colon <= 0 {
				end = "x\n" // not a field: the header ends
				break lines
			}
			p, _ = r.br.Peek(colon)
			ne := colon
			for ne > 0 && (p[ne-1] == ' ' || p[ne-1] == '\t') {
				ne--
			}
			if ne == 0 || !validName(p[:ne]) {
				end = "\x00:\n" // an invalid name ends the header
				break lines
			}
		}
		// A continuation line before any field is kept as a field of
		// its own, as message.ReadHeader does.
		if !wsp || fields == 0 {
			if cut == nil {
				fieldStart = len(kept)
				if fields >= lim.MaxFields {
					limit(message.ErrTooManyFields)
				}
			}
			fields++
		}
		// Read the physical line, which may be longer than the buffer.
		n := 0
		eof := false
		for {
			s, err := r.br.ReadSlice('\n')
			n += len(s)
			if cut == nil {
				switch {
				case len(kept)+len(s) > lim.MaxHeaderBytes:
					limit(message.ErrHeaderTooLarge)
				case err == bufio.ErrBufferFull && n > lim.MaxLineLength+2:
					limit(message.ErrLineTooLong)
				default:
					kept = append(kept, s...)
				}
			}
			if err == nil {
				if r.CountLines {
					r.nl++
				}
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				eof = true
				break
			}
			return nil, nil, &message.HeaderError{Line: line, Err: err}
		}
		if cut == nil {
			content := n
			if !eof {
				content-- // the LF
				if len(kept) >= 2 && kept[len(kept)-2] == '\r' {
					content--
				}
			}
			if content > lim.MaxLineLength {
				limit(message.ErrLineTooLong)
			}
		}
		if eof {
			break
		}
	}
	buf := append(kept, end...)
	h, err := message.ReadHeader(bufio.NewReaderSize(bytes.NewReader(buf), len(buf)+16), lim)
	if err != nil {
		// The fields kept are within the limits: this cannot happen.
		return nil, nil, fmt.Errorf("mime: reading header again: %w", err)
	}
	if cut != nil {
		cut.keptLines = bytes.Count(kept, []byte{'\n'})
		cut.endLine = line
		cut.skipped = r.offset() - start - int64(len(kept))
		if end == "\n" || end == "\r\n" {
			cut.skipped -= int64(len(end))
		}
	}
	return h, cut, nil
}

// discardHeader consumes n bytes of a header's blank line.
func (r *Reader) discardHeader(n int) {
	if r.CountLines {
		r.nl++
	}
	r.br.Discard(n)
}

// findColon returns the offset of the first colon on the line at the head
// of br, or -1 if the line has none before its end or within br's buffer,
// as message.ReadHeader decides whether a line is a field.
func findColon(br *bufio.Reader) int {
	n := max(br.Buffered(), 1)
	for {
		p, err := br.Peek(n)
		for i, c := range p {
			switch c {
			case ':':
				return i
			case '\n':
				return -1
			}
		}
		if err != nil || n >= br.Size() {
			return -1
		}
		n = min(2*n, br.Size())
	}
}

// validName reports whether b is a field name (RFC 5322 §2.2: printable
// US-ASCII characters except colon).
func validName(b []byte) bool {
	for _, c := range b {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return len(b) > 0
}
