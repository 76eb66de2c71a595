package imapwire

import (
	"fmt"
	"io"
	"strings"
)

func fmtSprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// LiteralReader streams the bytes of a literal. It is valid until the next
// call on its Decoder, which skips whatever was not read.
type LiteralReader struct {
	d       *Decoder
	n       int64 // bytes left
	Size    int64 // the announced size
	NonSync bool  // "{n+}" or "{n-}" (RFC 7888)
	Binary  bool  // "~{n}" (RFC 3516 literal8)
}

// Read reads from the literal; io.EOF at its end.
func (l *LiteralReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.d.r.Read(p)
	l.n -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Literal reads the header of a literal ("{n}", "{n+}", "{n-}" or the
// binary "~{n}") and returns a reader of its bytes, which are never held
// in memory by the Decoder. Sizes above Limits.MaxLiteral are refused
// with a *LimitError before any byte is read (and, for a synchronising
// literal, before OnSyncLiteral is called).
func (d *Decoder) Literal() (*LiteralReader, bool) {
	if !d.ready() {
		return nil, false
	}
	size, nonSync, binary, ok := d.literalHeader()
	if !ok {
		return nil, false
	}
	if size > d.lim.MaxLiteral {
		return nil, d.fail(&LimitError{Limit: "MaxLiteral", Max: d.lim.MaxLiteral, Got: size, InSync: !nonSync})
	}
	if !d.syncLiteral(size, nonSync) {
		return nil, false
	}
	l := &LiteralReader{d: d, n: size, Size: size, NonSync: nonSync, Binary: binary}
	d.lit = l
	return l, true
}

// NStringReader reads an nstring (or a literal8) whose content may be
// large: a quoted string is returned as a reader over memory, a literal
// as a LiteralReader, NIL as isNil. size is the content's length.
func (d *Decoder) NStringReader() (r io.Reader, size int64, isNil bool, ok bool) {
	if d.MaybeNil() {
		return nil, 0, true, true
	}
	c, ok := d.Peek()
	if !ok {
		return nil, 0, false, false
	}
	if c == '"' {
		var s string
		if !d.Quoted(&s) {
			return nil, 0, false, false
		}
		return strings.NewReader(s), int64(len(s)), false, true
	}
	l, ok := d.Literal()
	if !ok {
		return nil, 0, false, false
	}
	return l, l.Size, false, true
}
