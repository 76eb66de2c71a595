package mime

import (
	"errors"
	"io"

	"github.com/mailwire/mailwire/internal/charset"
)

// CharsetError reports a charset that cannot be decoded. The reader
// returned with it reads the text undecoded, so the bytes are not lost.
type CharsetError struct {
	Charset string
}

// Error names the charset.
func (e *CharsetError) Error() string { return "mime: unknown charset " + e.Charset }

// Is makes errors.Is(err, ErrUnknownCharset) true.
func (e *CharsetError) Is(target error) bool { return target == ErrUnknownCharset }

// ErrUnknownCharset is matched by errors.Is for every *CharsetError.
var ErrUnknownCharset = errors.New("mime: unknown charset")

// CharsetReader returns a reader that decodes r from the named charset to
// UTF-8, with the table of internal/charset (IANA names and the aliases real
// mail uses). For UTF-8 and US-ASCII it returns r. For an unknown charset it
// returns r itself and a *CharsetError.
func CharsetReader(name string, r io.Reader) (io.Reader, error) {
	cr, err := charset.NewReader(name, r)
	if err != nil {
		var ue *charset.UnknownError
		if errors.As(err, &ue) {
			return r, &CharsetError{Charset: name}
		}
		return r, err
	}
	return cr, nil
}

// DecodeCharset decodes b from the named charset to UTF-8. For an unknown
// charset it returns b itself and a *CharsetError.
func DecodeCharset(name string, b []byte) ([]byte, error) {
	d, err := charset.Decode(name, b)
	if err != nil {
		var ue *charset.UnknownError
		if errors.As(err, &ue) {
			return b, &CharsetError{Charset: name}
		}
		return b, err
	}
	return d, nil
}
