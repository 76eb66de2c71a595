package mime

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"

	"github.com/mailwire/mailwire/message"
)

// MultipartWriter writes the body of a multipart entity (RFC 2046 §5.1):
// each part's delimiter line and header, then the part's content, and at
// Close the close-delimiter.
type MultipartWriter struct {
	w        io.Writer
	boundary string
	n        int
	closed   bool
	err      error
}

// NewMultipartWriter returns a writer with a fresh random boundary (see
// RandomBoundary).
func NewMultipartWriter(w io.Writer) *MultipartWriter {
	return &MultipartWriter{w: w, boundary: RandomBoundary()}
}

// RandomBoundary returns a boundary of 32 characters: "=_" followed by 120
// random bits in hexadecimal. "=_" cannot occur in quoted-printable or
// base64 text, so the boundary cannot collide with content so encoded; for
// other content the chance of a collision is 2^-120 per line.
func RandomBoundary() string {
	var b [15]byte
	rand.Read(b[:])
	return "=_" + hex.EncodeToString(b[:])
}

// ErrBoundary is returned by SetBoundary for a boundary RFC 2046 §5.1.1
// does not allow.
var ErrBoundary = errors.New("mime: invalid boundary")

// Boundary returns the boundary.
func (mw *MultipartWriter) Boundary() string { return mw.boundary }

// SetBoundary sets the boundary; it must be called before the first part.
func (mw *MultipartWriter) SetBoundary(b string) error {
	if mw.n > 0 || b == "" || !validBoundary(b) {
		return ErrBoundary
	}
	mw.boundary = b
	return nil
}

// ContentType returns the Content-Type value for a multipart of subtype
// sub ("mixed", "alternative", "related", ...) with this boundary.
func (mw *MultipartWriter) ContentType(sub string) string {
	return FormatMediaType("multipart/"+sub, map[string]string{"boundary": mw.boundary})
}

// CreatePart writes a delimiter and the part's header and returns a writer
// for its content, which is written as given (encode it first, e.g. with
// NewEncoder). It is valid until the next CreatePart or Close.
func (mw *MultipartWriter) CreatePart(h *message.Header) (io.Writer, error) {
	if mw.err != nil {
		return nil, mw.err
	}
	if mw.closed {
		return nil, errors.New("mime: CreatePart after Close")
	}
	delim := "\r\n--" + mw.boundary + "\r\n"
	if mw.n == 0 {
		delim = delim[2:]
	}
	mw.n++
	if _, err := io.WriteString(mw.w, delim); err != nil {
		mw.err = err
		return nil, err
	}
	if h == nil {
		h = new(message.Header)
	}
	if _, err := h.WriteTo(mw.w); err != nil {
		mw.err = err
		return nil, err
	}
	return mw.w, nil
}

// Close writes the close-delimiter. It does not close the underlying
// writer.
func (mw *MultipartWriter) Close() error {
	if mw.err != nil || mw.closed {
		return mw.err
	}
	mw.closed = true
	s := "\r\n--" + mw.boundary + "--\r\n"
	if mw.n == 0 {
		// RFC 2046 §5.1.1 wants at least one part; write an empty one.
		s = "--" + mw.boundary + "\r\n\r\n" + s
	}
	_, mw.err = io.WriteString(mw.w, s)
	return mw.err
}
