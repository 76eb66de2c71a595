package dkim

import (
	"io"
)

// appendHeaderCanon appends the canonical form of one raw header field
// (name, colon, value, folding, with or without its line end) to dst, ending
// in CRLF (RFC 6376 §3.4.1 and §3.4.2). Bare LF line ends count as CRLF.
func appendHeaderCanon(dst, raw []byte, c Canonicalization) []byte {
	if c == Relaxed {
		return appendHeaderRelaxed(dst, raw)
	}
	// RFC 6376 §3.4.1: no change, apart from the line ends that mail
	// stored with LF line ends has lost.
	raw = trimLineEnd(raw)
	for i, ch := range raw {
		if ch == '\n' && (i == 0 || raw[i-1] != '\r') {
			dst = append(dst, '\r')
		}
		dst = append(dst, ch)
	}
	return append(dst, '\r', '\n')
}

func trimLineEnd(raw []byte) []byte {
	if n := len(raw); n > 0 && raw[n-1] == '\n' {
		raw = raw[:n-1]
		if n > 1 && raw[n-2] == '\r' {
			raw = raw[:n-2]
		}
	}
	return raw
}

// appendHeaderRelaxed implements RFC 6376 §3.4.2: lower-case the name,
// unfold, reduce runs of white space to one space, and remove white space
// at the end of the value and around the colon.
func appendHeaderRelaxed(dst, raw []byte) []byte {
	colon := -1
	for i, ch := range raw {
		if ch == ':' {
			colon = i
			break
		}
	}
	name, value := raw, []byte(nil)
	if colon >= 0 {
		name, value = raw[:colon], raw[colon+1:]
	}
	for len(name) > 0 && isWS(name[len(name)-1]) {
		name = name[:len(name)-1]
	}
	for _, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	dst = append(dst, ':')
	space := false // white space seen and not yet written
	started := false
	for _, ch := range value {
		switch ch {
		case '\r', '\n':
			// Unfolding removes line ends; the white space that
			// follows a fold remains and is reduced below.
			continue
		case ' ', '\t':
			space = true
			continue
		}
		if space && started {
			dst = append(dst, ' ')
		}
		space = false
		started = true
		dst = append(dst, ch)
	}
	return append(dst, '\r', '\n')
}

// bodyCanon canonicalises a body as it streams through (RFC 6376 §3.4.3
// simple, §3.4.4 relaxed) and writes the canonical form to out. Line ends
// may be CRLF or bare LF (both become CRLF); a CR not followed by LF is
// content. Empty lines are held back until content follows them, so that
// the empty lines at the end are dropped; in relaxed mode white space is
// held back likewise.
type bodyCanon struct {
	out     io.Writer
	relaxed bool
	buf     []byte // output gathered before it is written to out
	crlfs   int    // empty lines held back
	cr      bool   // the last byte seen was a CR
	content bool   // the current line has content
	space   bool   // relaxed: white space held back in the current line
	any     bool   // anything has been written
	n       int64  // canonical bytes written
}

func newBodyCanon(out io.Writer, c Canonicalization) *bodyCanon {
	return &bodyCanon{out: out, relaxed: c == Relaxed, buf: make([]byte, 0, 32<<10)}
}

func (b *bodyCanon) emitHeld() {
	for ; b.crlfs > 0; b.crlfs-- {
		b.buf = append(b.buf, '\r', '\n')
	}
	if b.space {
		b.buf = append(b.buf, ' ')
		b.space = false
	}
}

func (b *bodyCanon) lineEnd() {
	b.space = false
	if b.content {
		b.buf = append(b.buf, '\r', '\n')
		b.content = false
	} else {
		b.crlfs++
	}
}

func (b *bodyCanon) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		ch := p[i]
		if b.cr {
			b.cr = false
			if ch == '\n' {
				b.lineEnd()
				i++
				continue
			}
			b.contentByte('\r')
		}
		switch {
		case ch == '\r':
			b.cr = true
			i++
		case ch == '\n':
			b.lineEnd()
			i++
		case b.relaxed && (ch == ' ' || ch == '\t'):
			b.space = true
			i++
		default:
			// A run of ordinary bytes: copy it in one go.
			j := i + 1
			for j < len(p) && p[j] != '\r' && p[j] != '\n' && !(b.relaxed && (p[j] == ' ' || p[j] == '\t')) {
				j++
			}
			if b.crlfs > 0 || b.space {
				b.emitHeld()
			}
			b.buf = append(b.buf, p[i:j]...)
			b.content = true
			i = j
		}
		if len(b.buf) >= 16<<10 {
			if err := b.flush(); err != nil {
				return 0, err
			}
		}
	}
	return len(p), b.flush()
}

func (b *bodyCanon) contentByte(ch byte) {
	if b.crlfs > 0 || b.space {
		b.emitHeld()
	}
	b.buf = append(b.buf, ch)
	b.content = true
}

func (b *bodyCanon) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	b.any = true
	b.n += int64(len(b.buf))
	_, err := b.out.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// Close ends the body: an unterminated last line gets its CRLF, and an
// empty body becomes CRLF in simple mode (RFC 6376 §3.4.3) and stays empty
// in relaxed mode (§3.4.4, erratum 1384).
func (b *bodyCanon) Close() error {
	if b.cr {
		b.cr = false
		b.contentByte('\r')
	}
	if b.content {
		b.buf = append(b.buf, '\r', '\n')
		b.content = false
	}
	if !b.relaxed && !b.any && len(b.buf) == 0 {
		b.buf = append(b.buf, '\r', '\n')
	}
	return b.flush()
}
