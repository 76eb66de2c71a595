package message

import (
	"bufio"
	"bytes"
	"strings"
)

// Defect problems of ReadHeader that ReadHeaderLenient may repair.
const (
	notFieldEnded = "line is not a header field; header ended, rest read as body"
	badNameEnded  = "invalid field name; header ended, rest read as body"
)

var bom = []byte("\xEF\xBB\xBF")

// ReadHeaderLenient reads a header as ReadHeaderWithin does, for readers of
// received mail that want every field they can get, and repairs what
// ReadHeader takes for the end of the header:
//
//   - a UTF-8 byte-order mark before the first field is skipped;
//   - an mbox "From " line (RFC 4155) at the start, as a message/rfc822
//     part copied out of a mailbox has, is kept as a nameless field;
//   - a line that is not a field (no colon, or an invalid name), when every
//     line after it up to a blank line is a field or a continuation, is
//     kept: as a continuation of the field before it when it has no colon,
//     or an "=" before its first one (a folded line that lost its leading
//     white space, such as a parameter of Content-Type), otherwise as a
//     nameless field.
//     A line starting with "--", which may be a MIME delimiter, is never
//     kept, nor one whose blank line is beyond br's buffer.
//
// Each repair is recorded in the header's Defects. It keeps every field
// ReadHeaderWithin keeps from the same input, with the same name and a Raw
// that starts with the same bytes (a repaired line may follow them); the
// limits apply to the whole header.
func ReadHeaderLenient(br *bufio.Reader, lim Limits) (*Header, *HeaderOverflow, error) {
	lim = lim.withDefaults()
	h := &Header{parsed: true}
	lines := 0 // line feeds in h.buf
	if p, _ := br.Peek(len(bom)); bytes.Equal(p, bom) {
		br.Discard(len(bom))
		h.defects = append(h.defects, Defect{1, "byte-order mark before the first field; skipped"})
	}
	if p, _ := br.Peek(5); string(p) == "From " {
		if line, ok := peekLine(br, 0, lim.MaxLineLength); ok && !isFieldLine(line) {
			h.buf = append(h.buf, line...)
			br.Discard(len(line))
			h.f = append(h.f, field{start: 0, end: int32(len(line)), nameEnd: -1, colon: -1})
			if bytes.HasSuffix(line, crlf) {
				h.crlfs++
			}
			lines++
			h.defects = append(h.defects, Defect{1, "mbox From line before the first field; kept as a nameless field"})
		}
	}
	for {
		sub := lim
		sub.MaxFields -= len(h.f)
		sub.MaxHeaderBytes -= len(h.buf)
		if sub.MaxFields <= 0 || sub.MaxHeaderBytes <= 0 {
			// The repairs took the room: the rest goes through the
			// limits as a header of its own would not. Read on with
			// the least room, which records the cut.
			sub.MaxFields = max(sub.MaxFields, 1)
			sub.MaxHeaderBytes = max(sub.MaxHeaderBytes, 1)
		}
		part, cut, err := ReadHeaderWithin(br, sub)
		if err != nil {
			return nil, nil, err
		}
		partLines := bytes.Count(part.buf, lf)
		h.merge(part, lines)
		if cut != nil {
			cut.Err = &HeaderError{Line: cut.Err.Line + lines, Err: cut.Err.Err}
			cut.Lines += lines
			return h, cut, nil
		}
		lines += partLines
		// Did the header end on a line that the lines after it show to
		// be inside it?
		n := len(h.defects)
		if part.sep != nil || n == 0 || h.defects[n-1].Line != lines+1 {
			return h, nil, nil
		}
		if p := h.defects[n-1].Problem; p != notFieldEnded && p != badNameEnded {
			return h, nil, nil
		}
		line, ok := peekLine(br, 0, lim.MaxLineLength)
		if !ok || bytes.HasPrefix(line, []byte("--")) || len(h.buf)+len(line) > lim.MaxHeaderBytes || !fieldsFollow(br, len(line), lim.MaxLineLength) {
			return h, nil, nil
		}
		// fieldsFollow's Peeks may have moved the buffered bytes.
		line, _ = peekLine(br, 0, lim.MaxLineLength)
		br.Discard(len(line))
		start := int32(len(h.buf))
		h.buf = append(h.buf, line...)
		if bytes.HasSuffix(line, crlf) {
			h.crlfs++
		}
		lines++
		if colon := bytes.IndexByte(line, ':'); len(h.f) > 0 && (colon < 0 || bytes.IndexByte(line[:colon], '=') >= 0) {
			h.f[len(h.f)-1].end = int32(len(h.buf))
			h.defects[n-1].Problem = strings.Replace(h.defects[n-1].Problem, "header ended, rest read as body", "kept as a continuation of the field before it", 1)
		} else {
			h.f = append(h.f, field{start: start, end: int32(len(h.buf)), nameEnd: -1, colon: -1})
			h.defects[n-1].Problem = strings.Replace(h.defects[n-1].Problem, "header ended, rest read as body", "kept as a nameless field", 1)
		}
	}
}

// merge appends the fields of part, read from the input right after h's,
// to h; lines is the number of lines h holds.
func (h *Header) merge(part *Header, lines int) {
	off := int32(len(h.buf))
	h.buf = append(h.buf, part.buf...)
	fs, ds := part.f, part.defects
	if len(h.f) > 0 && len(fs) > 0 && fs[0].colon < 0 && len(ds) > 0 && ds[0].Line == 1 {
		// A continuation line that starts part continues h's last
		// field: no nameless field, no defect.
		h.f[len(h.f)-1].end = fs[0].end + off
		fs, ds = fs[1:], ds[1:]
	}
	for _, f := range fs {
		f.start += off
		f.end += off
		h.f = append(h.f, f)
	}
	for _, d := range ds {
		d.Line += lines
		h.defects = append(h.defects, d)
	}
	h.crlfs += part.crlfs
	h.sep = part.sep
}

// peekLine returns the line at offset off of br's buffered input, line feed
// included, if it is whole within br's buffer and at most maxLen long
// without its line end.
func peekLine(br *bufio.Reader, off, maxLen int) ([]byte, bool) {
	for n := min(off+256, br.Size()); ; n = min(2*n, br.Size()) {
		p, err := br.Peek(n)
		if k := bytes.IndexByte(p[min(off, len(p)):], '\n'); k >= 0 && off < len(p) {
			line := p[off : off+k+1]
			content := bytes.TrimSuffix(bytes.TrimSuffix(line, lf), cr)
			return line, len(content) <= maxLen
		}
		if err != nil || n >= br.Size() {
			return nil, false
		}
	}
}

// fieldsFollow reports whether the lines of br's buffer from offset off to
// the next blank line are fields or continuation lines, the blank line
// lying within the buffer.
func fieldsFollow(br *bufio.Reader, off, maxLen int) bool {
	for {
		line, ok := peekLine(br, off, maxLen)
		if !ok {
			return false
		}
		switch c := line[0]; {
		case c == '\n' || bytes.Equal(line, crlf):
			return true
		case c == ' ' || c == '\t':
		default:
			if !isFieldLine(line) {
				return false
			}
		}
		off += len(line)
	}
}

// isFieldLine reports whether line starts a field as ReadHeader reads one:
// a valid name, optional white space, a colon.
func isFieldLine(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return false
	}
	ne := colon
	for ne > 0 && isWSP(line[ne-1]) {
		ne--
	}
	return validName(line[:ne])
}
