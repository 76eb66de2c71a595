package mime

import (
	"encoding/base64"
	"io"
	"strings"
)

// Transfer encodings of RFC 2045 §6.1, as written in Content-Transfer-Encoding.
const (
	SevenBit        = "7bit"
	EightBit        = "8bit"
	Binary          = "binary"
	QuotedPrintable = "quoted-printable"
	Base64          = "base64"
)

// NewDecoder returns a reader that decodes r according to the
// Content-Transfer-Encoding value cte (case-insensitive, white space and
// comments ignored). 7bit, 8bit, binary and the empty string return r
// itself. An unknown encoding also returns r itself, with ok false:
// RFC 2045 §6.4 says to treat such a body as application/octet-stream.
func NewDecoder(cte string, r io.Reader) (dec io.Reader, ok bool) {
	switch cte = normalizeCTE(cte); cte {
	case QuotedPrintable:
		return NewQPDecoder(r), true
	case Base64:
		return NewBase64Decoder(r), true
	}
	return r, knownCTE(cte)
}

// knownCTE reports whether cte, normalised, is a transfer encoding of
// RFC 2045 §6.1.
func knownCTE(cte string) bool {
	switch cte {
	case QuotedPrintable, Base64, SevenBit, EightBit, Binary, "":
		return true
	}
	return false
}

// NewEncoder returns a writer that encodes to the transfer encoding cte and
// writes to w. Quoted-printable is in text mode (see QPEncoder). For 7bit,
// 8bit and binary the data is written as it is. Close flushes the encoder;
// it does not close w.
func NewEncoder(cte string, w io.Writer) io.WriteCloser {
	switch normalizeCTE(cte) {
	case QuotedPrintable:
		return NewQPEncoder(w, false)
	case Base64:
		return NewBase64Encoder(w)
	}
	return nopCloser{w}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// normalizeCTE lower-cases a Content-Transfer-Encoding value and drops white
// space and comments.
func normalizeCTE(cte string) string {
	cte = strings.TrimSpace(cte)
	if i := strings.IndexByte(cte, '('); i >= 0 {
		cte = strings.TrimSpace(cte[:i])
	}
	cte = strings.Trim(cte, `"`)
	// Fast path for the usual spellings.
	switch cte {
	case "7bit", "8bit", "binary", "base64", "quoted-printable":
		return cte
	}
	return strings.ToLower(cte)
}

// base64LineBytes is the input of one 76-character output line.
const base64LineBytes = 57

// Base64Encoder encodes to base64 in lines of 76 characters ended by CRLF
// (RFC 2045 §6.8). Close must be called to write the last line.
type Base64Encoder struct {
	w    io.Writer
	in   []byte // pending input, less than one line
	out  []byte
	err  error
	done bool
}

// NewBase64Encoder returns an encoder writing base64 lines to w.
func NewBase64Encoder(w io.Writer) *Base64Encoder {
	return &Base64Encoder{w: w, in: make([]byte, 0, base64LineBytes), out: make([]byte, 0, 78*256)}
}

// Write encodes p, writing every complete line.
func (e *Base64Encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n := len(p)
	if len(e.in) > 0 {
		k := copy(e.in[len(e.in):base64LineBytes], p)
		e.in = e.in[:len(e.in)+k]
		p = p[k:]
		if len(e.in) < base64LineBytes {
			return n, nil
		}
		e.line(e.in)
		e.in = e.in[:0]
	}
	for len(p) >= base64LineBytes {
		e.line(p[:base64LineBytes])
		p = p[base64LineBytes:]
		if len(e.out)+78 > cap(e.out) {
			if err := e.flush(); err != nil {
				return 0, err
			}
		}
	}
	e.in = append(e.in, p...)
	return n, e.flush()
}

func (e *Base64Encoder) line(b []byte) {
	m := len(e.out)
	enc := base64.StdEncoding.EncodedLen(len(b))
	e.out = e.out[:m+enc]
	base64.StdEncoding.Encode(e.out[m:], b)
	e.out = append(e.out, '\r', '\n')
}

func (e *Base64Encoder) flush() error {
	if len(e.out) > 0 && e.err == nil {
		_, e.err = e.w.Write(e.out)
	}
	e.out = e.out[:0]
	return e.err
}

// Close writes the last, partial line. It does not close the underlying
// writer.
func (e *Base64Encoder) Close() error {
	if e.done {
		return e.err
	}
	e.done = true
	if len(e.in) > 0 {
		e.line(e.in)
		e.in = e.in[:0]
	}
	return e.flush()
}
