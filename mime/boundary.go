// The boundary scanner: how a Reader finds the delimiters of the multiparts
// it is inside (RFC 2046 §5.1.1) while streaming the regions between them.

package mime

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// validBoundary checks RFC 2046 §5.1.1's bchars and length.
func validBoundary(b string) bool {
	if len(b) > 70 || b[len(b)-1] == ' ' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("'()+_,-./:=? ", c) >= 0) {
			return false
		}
	}
	return true
}

func (r *Reader) beginRegion() {
	r.inRegion = true
	r.lineStart = true
}

// readKept reads a preamble or epilogue region, keeping up to MaxPreamble
// bytes.
func (r *Reader) readKept(defects *[]Defect) ([]byte, error) {
	r.beginRegion()
	var kept []byte
	var tmp [4096]byte
	truncated := false
	limit := r.lim.MaxPreamble
	for {
		n, err := r.readRegion(tmp[:])
		if n > 0 {
			room := limit - len(kept)
			if n > room {
				n = room
				truncated = true
			}
			kept = append(kept, tmp[:n]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if truncated {
		*defects = append(*defects, Defect{Kind: DefectTruncated, Detail: "preamble or epilogue"})
	}
	return kept, nil
}

// skipRegion reads the current region to its end.
func (r *Reader) skipRegion() error {
	for r.inRegion {
		buf, err := r.peekRegion()
		if err != nil && err != io.EOF {
			return err
		}
		r.consume(buf)
	}
	return nil
}

// readRegion reads from the current region into b.
func (r *Reader) readRegion(b []byte) (int, error) {
	if !r.inRegion {
		return 0, io.EOF
	}
	for {
		buf, err := r.peekRegion()
		if len(buf) > 0 {
			n := copy(b, buf)
			r.consume(buf[:n])
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		if !r.inRegion {
			return 0, io.EOF
		}
	}
}

func (r *Reader) consume(b []byte) {
	if len(b) == 0 {
		return
	}
	if r.CountLines {
		r.count(b)
	}
	r.lineStart = false
	r.br.Discard(len(b))
}

// count counts the line feeds of b, bytes consumed next, and those without
// a CR before them.
func (r *Reader) count(b []byte) {
	if len(b) == 0 {
		return
	}
	n := bytes.Count(b, []byte{'\n'})
	if n > 0 {
		r.nl += int64(n)
		crlfs := bytes.Count(b, []byte("\r\n"))
		if r.prevCR && b[0] == '\n' {
			crlfs++
		}
		r.bareLF += int64(n - crlfs)
	}
	r.prevCR = b[len(b)-1] == '\r'
}

// peekRegion returns the bytes of the current region that are buffered and
// certainly not part of a delimiter, without consuming them. When the
// region ends there (a delimiter or EOF is at the head of the buffer) it
// consumes the delimiter line, records the hit and returns nil.
func (r *Reader) peekRegion() ([]byte, error) {
	for {
		n := r.br.Buffered()
		buf, _ := r.br.Peek(n)
		atEOF := false
		if n == 0 {
			var err error
			buf, err = r.br.Peek(1)
			if len(buf) == 0 {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					r.endRegion(hit{eof: true})
					return nil, io.EOF
				}
				return nil, err
			}
			buf, _ = r.br.Peek(r.br.Buffered())
		}
		safe, found, h, dl := r.scan(buf, atEOF)
		if found && safe == 0 {
			r.endRegion(h)
			if err := r.takeDelimiter(dl); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		if safe > 0 {
			return buf[:safe], nil
		}
		// Not enough to decide: read more.
		if len(buf) == bufSize {
			// Cannot happen: a delimiter candidate is far shorter
			// than the buffer. Give up on it as data.
			return buf[:1], nil
		}
		more, err := r.br.Peek(len(buf) + 1)
		if len(more) <= len(buf) {
			// The Peek may have moved the buffered bytes within the
			// buffer: buf is stale, more holds them.
			buf = more
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				// Decide with what there is.
				safe, found, h, dl := r.scan(buf, true)
				if found && safe == 0 {
					r.endRegion(h)
					if err := r.takeDelimiter(dl); err != nil {
						return nil, err
					}
					return nil, io.EOF
				}
				if safe > 0 {
					return buf[:safe], nil
				}
				r.endRegion(hit{eof: true})
				return nil, io.EOF
			}
			if err != nil {
				return nil, err
			}
		}
	}
}

// scan looks for the first delimiter line of any open multipart in buf.
// It returns the number of bytes before it that belong to the region
// (safe), or before the first place that might start one when more input
// is needed; found with the hit and the delimiter's length through its
// boundary (line break before it included) when one starts at safe.
func (r *Reader) scan(buf []byte, atEOF bool) (safe int, found bool, h hit, dl int) {
	if len(r.stack) == 0 {
		return len(buf), false, hit{}, 0
	}
	i := 0
	if r.lineStart {
		switch st, h, dl := r.matchAt(buf, 0, atEOF); st {
		case matchYes:
			return 0, true, h, dl
		case matchMore:
			return 0, false, hit{}, 0
		}
	}
	for {
		// Only a line starting with "--" can be a delimiter. Search for
		// '-', which base64 never holds and text seldom does, with the
		// vectorised IndexByte.
		j := bytes.IndexByte(buf[i:], '-')
		if j < 0 {
			return tailSafe(buf, atEOF), false, hit{}, 0
		}
		d := i + j
		if d == 0 || buf[d-1] != '\n' {
			i = d + 1
			continue
		}
		if d+1 >= len(buf) {
			return tailSafe(buf, atEOF), false, hit{}, 0
		}
		if buf[d+1] != '-' {
			i = d + 2
			continue
		}
		nl := d - 1
		start := nl
		if nl > 0 && buf[nl-1] == '\r' {
			start = nl - 1
		}
		st, h, dl := r.matchAt(buf, d, atEOF)
		switch st {
		case matchYes:
			return start, true, h, dl + (d - start)
		case matchMore:
			return start, false, hit{}, 0
		}
		i = d + 2
	}
}

// tailSafe returns how much of buf, which holds no complete "\n--", is
// certainly not the start of a delimiter: all of it but a trailing "\r",
// "\n", "\r\n", "\n-" or "\r\n-", which more input could complete.
func tailSafe(buf []byte, atEOF bool) int {
	n := len(buf)
	if atEOF || n == 0 {
		return n
	}
	k := n
	if buf[k-1] == '-' && k >= 2 && buf[k-2] == '\n' {
		k--
	}
	if buf[k-1] == '\n' {
		k--
		if k > 0 && buf[k-1] == '\r' {
			k--
		}
		return k
	}
	if k == n && buf[n-1] == '\r' {
		return n - 1
	}
	return n
}

type matchState uint8

const (
	matchNo matchState = iota
	matchYes
	matchMore
)

// matchAt reports whether a delimiter of an open multipart starts at
// buf[i], innermost first. dl is its length up to the end of the boundary
// (the close "--" and padding are left for takeDelimiter).
func (r *Reader) matchAt(buf []byte, i int, atEOF bool) (matchState, hit, int) {
	rest := buf[i:]
	if len(rest) < 2 {
		if atEOF || len(rest) == 1 && rest[0] != '-' {
			return matchNo, hit{}, 0
		}
		return matchMore, hit{}, 0
	}
	if rest[0] != '-' || rest[1] != '-' {
		return matchNo, hit{}, 0
	}
	more := false
	for k := len(r.stack) - 1; k >= 0; k-- {
		d := r.stack[k].delim
		if len(rest) < len(d)+3 && !atEOF {
			if bytes.HasPrefix(d, rest[:min(len(rest), len(d))]) {
				more = true
			}
			continue
		}
		if !bytes.HasPrefix(rest, d) {
			continue
		}
		t := rest[len(d):]
		close := false
		if len(t) >= 2 && t[0] == '-' && t[1] == '-' {
			close = true
			t = t[2:]
		}
		// RFC 2046 §5.1.1: only transport padding may follow.
		j := 0
		for j < len(t) && (t[j] == ' ' || t[j] == '\t') {
			j++
		}
		switch {
		case j == len(t) && !atEOF:
			more = true
		case j == len(t) || t[j] == '\r' || t[j] == '\n':
			return matchYes, hit{frame: k, close: close}, len(d)
		}
	}
	if more {
		return matchMore, hit{}, 0
	}
	return matchNo, hit{}, 0
}

// takeDelimiter consumes a delimiter line: the line break before it, the
// boundary, "--" for a close-delimiter, transport padding and the line
// break after it (RFC 2046 §5.1.1).
func (r *Reader) takeDelimiter(dl int) error {
	b, _ := r.br.Peek(dl)
	if r.CountLines {
		r.count(b)
	}
	r.br.Discard(dl)
	// The rest of the line: "--" of a close-delimiter, transport padding
	// and the line break. After a close-delimiter the line break could
	// as well start the epilogue (RFC 2046 §5.1.1); taking it with the
	// delimiter line, as Dovecot does, makes "--inner--CRLF--outer"
	// end the inner multipart after its CRLF.
	for {
		line, err := r.br.ReadSlice('\n')
		if r.CountLines {
			r.count(line)
		}
		if err == nil {
			return nil
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return nil
		}
		return err
	}
}

// endRegion records how the current region ended and ends the parts it
// closes.
func (r *Reader) endRegion(h hit) {
	if !r.inRegion {
		return
	}
	r.inRegion = false
	r.hit = h
	r.regionEnd = r.offset()
	r.regionEndNL = r.nl
	r.regionEndBare = r.bareLF
}

// afterHit acts on the delimiter (or EOF) that ended the last region:
// it ends the parts it closes, pops finished multiparts and reads their
// epilogues, and sets what comes next.
func (r *Reader) afterHit() error {
	for {
		h := r.hit
		if h.eof {
			for k := len(r.stack) - 1; k >= 0; k-- {
				f := r.stack[k]
				f.part.Defects = append(f.part.Defects, Defect{Kind: DefectMissingEndBoundary, Detail: f.part.Boundary})
				if f.n == 0 {
					f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
				}
			}
			r.stack = r.stack[:0]
			r.next = nextEOF
			return nil
		}
		// Multiparts inside the one whose delimiter was found lack their
		// close-delimiter.
		for k := len(r.stack) - 1; k > h.frame; k-- {
			f := r.stack[k]
			f.part.Defects = append(f.part.Defects, Defect{Kind: DefectMissingEndBoundary, Detail: f.part.Boundary})
			if f.n == 0 {
				f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
			}
		}
		r.stack = r.stack[:h.frame+1]
		r.endParts(h.frame)
		if !h.close {
			r.next = nextHeader
			return nil
		}
		f := r.stack[h.frame]
		if f.n == 0 {
			f.part.Defects = append(f.part.Defects, Defect{Kind: DefectNoParts})
		}
		r.stack = r.stack[:h.frame]
		epi, err := r.readKept(&f.part.Defects)
		if err != nil {
			return err
		}
		f.part.Epilogue = epi
	}
}

// endParts ends the open parts inside frame k (all of them for k < 0),
// setting their Size and Lines.
func (r *Reader) endParts(k int) {
	// The delimiter just taken is not part of the body: use the position
	// where the region ended, before it.
	pos := r.regionEnd
	var nl, bare int64
	if r.CountLines {
		nl, bare = r.regionEndNL, r.regionEndBare
	}
	for len(r.open) > 0 {
		p := r.open[len(r.open)-1]
		if k >= 0 && p.frame < k {
			break
		}
		r.open = r.open[:len(r.open)-1]
		p.ended = true
		p.Size = pos - p.BodyOffset
		if r.CountLines {
			// Line breaks, as Dovecot counts the lines of a body.
			p.Lines = nl - p.nlStart
			p.bareLF = bare - p.bareStart
		}
	}
}
