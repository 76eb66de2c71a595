package mime

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/mailwire/mailwire/message"
)

// appendHeaderDefects appends to ds, in line order, the repairs
// message.ReadHeaderLenient made in the header (a line that is not a field
// ending the header, say) and the limit that cut it.
func appendHeaderDefects(ds []Defect, hd []message.Defect, fields int, cut *message.HeaderOverflow) []Defect {
	pending := cut != nil
	for _, d := range hd {
		if pending && d.Line > cut.Err.Line {
			ds = append(ds, cutDefect(cut, fields))
			pending = false
		}
		ds = append(ds, Defect{Kind: DefectHeader, Detail: d.String()})
	}
	if pending {
		ds = append(ds, cutDefect(cut, fields))
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

// cutDefect records the limit that cut a header, and what was left out.
func cutDefect(c *message.HeaderOverflow, kept int) Defect {
	what := strings.TrimPrefix(c.Err.Err.Error(), "message: ")
	return Defect{Kind: DefectHeader, Detail: fmt.Sprintf("line %d: %s; %d fields kept, %d bytes skipped", c.Err.Line, what, kept, c.Skipped)}
}

// readHeader reads a part's header. A header over a limit is not an error:
// it comes back cut, with the fields before the limit, and the reader is
// past the rest of it. Only an error reading the input is returned.
func (r *Reader) readHeader() (*message.Header, *message.HeaderOverflow, error) {
	start := r.offset()
	h, cut, err := message.ReadHeaderLenient(r.br, r.lim.Header)
	if err != nil {
		return nil, nil, err
	}
	if r.CountLines {
		// Line feeds without a CR before them, in the fields kept and
		// the blank line. Those of the lines a cut header skipped are
		// not known, and counted as CRLF.
		var raw int64
		nl := 0
		for i := range h.Len() {
			f := h.Field(i).Raw
			raw += int64(len(f))
			n := bytes.Count(f, []byte{'\n'})
			nl += n
			r.bareLF += int64(n - bytes.Count(f, []byte("\r\n")))
		}
		r.prevCR = false
		if cut != nil {
			r.nl += int64(cut.Lines)
			return h, cut, nil
		}
		r.nl += int64(nl)
		// What the fields leave is the blank line, LF or CRLF, and a
		// byte-order mark skipped (3 bytes), if any.
		switch r.offset() - start - raw {
		case 1, 4:
			r.nl++
			r.bareLF++
		case 2, 5:
			r.nl++
		}
	}
	return h, cut, nil
}
