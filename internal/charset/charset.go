// Package charset maps MIME charset names to text encodings, so that RFC 2047
// encoded words and MIME bodies in any declared charset can be decoded to UTF-8.
//
// Names are matched case-insensitively, as RFC 2978 §2.3 requires, against the
// IANA charset registry and the aliases common in real mail (cp1252, latin1,
// ks_c_5601-1987, x-sjis and so on). UTF-8 and US-ASCII take a fast path that
// does no transformation at all. UTF-7 (RFC 2152) is decoded and encoded by this
// package, since golang.org/x/text does not provide it.
//
// Not implemented: charset detection from content, and the IMAP modified UTF-7
// of RFC 3501 §5.1.3 (which is a different encoding).
package charset

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
	"golang.org/x/text/transform"
)

// UnknownError is returned for a charset name this package cannot decode.
type UnknownError struct {
	Name string // the name as given
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("charset: unknown charset %q", e.Name)
}

// ErrUnknown is matched by errors.Is for every *UnknownError.
var ErrUnknown = errors.New("charset: unknown charset")

// Is reports whether target is ErrUnknown.
func (e *UnknownError) Is(target error) bool { return target == ErrUnknown }

// utf8Nop is returned for UTF-8 and US-ASCII: decoding is the identity.
// It keeps invalid bytes as they are rather than replacing them, which is what
// mail readers want for mislabelled text (8-bit bytes under a us-ascii label are
// nearly always UTF-8 or Latin-1, and the caller is better placed to decide).
var utf8Nop encoding.Encoding = encoding.Nop

// known maps normalised names (lower case, no spaces) to encodings. It lists the
// names seen most in mail, so that a lookup of those never reaches the indexes,
// and fixes the meaning of names the indexes disagree on (WHATWG maps
// iso-8859-1 to windows-1252 and gb2312 to GBK; we keep ISO-8859-1 exact and
// decode GB2312 with GBK, its superset).
var known = map[string]encoding.Encoding{
	"utf-8":             utf8Nop,
	"utf8":              utf8Nop,
	"us-ascii":          utf8Nop,
	"ascii":             utf8Nop,
	"ansi_x3.4-1968":    utf8Nop,
	"iso646-us":         utf8Nop,
	"us":                utf8Nop,
	"iso-8859-1":        charmap.ISO8859_1,
	"iso8859-1":         charmap.ISO8859_1,
	"iso_8859-1":        charmap.ISO8859_1,
	"latin1":            charmap.ISO8859_1,
	"l1":                charmap.ISO8859_1,
	"iso-8859-15":       charmap.ISO8859_15,
	"latin-9":           charmap.ISO8859_15,
	"windows-1250":      charmap.Windows1250,
	"windows-1251":      charmap.Windows1251,
	"windows-1252":      charmap.Windows1252,
	"windows-1253":      charmap.Windows1253,
	"windows-1254":      charmap.Windows1254,
	"windows-1255":      charmap.Windows1255,
	"windows-1256":      charmap.Windows1256,
	"windows-1257":      charmap.Windows1257,
	"windows-1258":      charmap.Windows1258,
	"cp1250":            charmap.Windows1250,
	"cp1251":            charmap.Windows1251,
	"cp1252":            charmap.Windows1252,
	"cp1253":            charmap.Windows1253,
	"cp1254":            charmap.Windows1254,
	"cp1255":            charmap.Windows1255,
	"cp1256":            charmap.Windows1256,
	"cp1257":            charmap.Windows1257,
	"cp1258":            charmap.Windows1258,
	"koi8-r":            charmap.KOI8R,
	"koi8-u":            charmap.KOI8U,
	"gb2312":            simplifiedchinese.GBK,
	"gbk":               simplifiedchinese.GBK,
	"cp936":             simplifiedchinese.GBK,
	"gb18030":           simplifiedchinese.GB18030,
	"hz-gb-2312":        simplifiedchinese.HZGB2312,
	"big5":              traditionalchinese.Big5,
	"big5-hkscs":        traditionalchinese.Big5,
	"cp950":             traditionalchinese.Big5,
	"shift_jis":         japanese.ShiftJIS,
	"shift-jis":         japanese.ShiftJIS,
	"sjis":              japanese.ShiftJIS,
	"x-sjis":            japanese.ShiftJIS,
	"cp932":             japanese.ShiftJIS,
	"windows-31j":       japanese.ShiftJIS,
	"euc-jp":            japanese.EUCJP,
	"x-euc-jp":          japanese.EUCJP,
	"iso-2022-jp":       japanese.ISO2022JP,
	"csiso2022jp":       japanese.ISO2022JP,
	"euc-kr":            korean.EUCKR,
	"ks_c_5601-1987":    korean.EUCKR,
	"cp949":             korean.EUCKR,
	"utf-16":            unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
	"utf-16be":          unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"utf-16le":          unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
	"utf-32":            utf32.UTF32(utf32.BigEndian, utf32.UseBOM),
	"utf-32be":          utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM),
	"utf-32le":          utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM),
	"utf-7":             UTF7,
	"utf7":              UTF7,
	"unicode-1-1-utf-7": UTF7,
	"csunicode11utf7":   UTF7,
}

// normalise lower-cases name and removes the quotes and blanks that sloppy
// generators leave around it.
func normalise(name string) string {
	name = strings.TrimSpace(name)
	name = strings.Trim(name, "\"'")
	name = strings.TrimSpace(name)
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// lookupKnown looks name up in known without allocating for short names.
func lookupKnown(name string) (encoding.Encoding, bool) {
	if e, ok := known[name]; ok {
		return e, true
	}
	var buf [32]byte
	if len(name) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	e, ok := known[string(buf[:len(name)])]
	return e, ok
}

// Lookup returns the encoding for a MIME charset name (RFC 2045 §5.1, RFC 2978).
// Matching ignores case. UTF-8 and US-ASCII (and their aliases) return
// encoding.Nop, whose decoder passes bytes through unchanged. A name that is
// not known returns an *UnknownError.
func Lookup(name string) (encoding.Encoding, error) {
	if e, ok := lookupKnown(name); ok {
		return e, nil
	}
	n := normalise(name)
	if e, ok := known[n]; ok {
		return e, nil
	}
	if n == "" {
		return nil, &UnknownError{Name: name}
	}
	// RFC 2231 §5 language suffixes ("utf-8*en") are not part of the name.
	if i := strings.IndexByte(n, '*'); i > 0 {
		return Lookup(n[:i])
	}
	for _, idx := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA} {
		if e, err := idx.Encoding(n); err == nil && e != nil {
			return e, nil
		}
	}
	if e, err := htmlindex.Get(n); err == nil && e != nil {
		return e, nil
	}
	// "cp850", "ibm-850" and "ibm850" all name IBM code page 850.
	for _, p := range []string{"cp-", "cp", "ibm-", "ibm"} {
		if num, ok := strings.CutPrefix(n, p); ok && num != "" && isDigits(num) {
			if e, err := ianaindex.IANA.Encoding("ibm" + num); err == nil && e != nil {
				return e, nil
			}
			if e, err := htmlindex.Get("windows-" + num); err == nil && e != nil {
				return e, nil
			}
		}
	}
	return nil, &UnknownError{Name: name}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsUTF8 reports whether name is UTF-8 or US-ASCII (or an alias of them), for
// which decoding is the identity.
func IsUTF8(name string) bool {
	e, ok := lookupKnown(name)
	if !ok {
		e, ok = known[normalise(name)]
	}
	return ok && e == utf8Nop
}

// NewReader returns a reader that decodes text in the named charset from r to
// UTF-8. For UTF-8 and US-ASCII it returns r itself.
func NewReader(name string, r io.Reader) (io.Reader, error) {
	e, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if e == utf8Nop {
		return r, nil
	}
	return transform.NewReader(r, e.NewDecoder()), nil
}

// DecodeString decodes s from the named charset to UTF-8. For UTF-8 and
// US-ASCII it returns s unchanged. Bytes that are invalid in the charset become
// U+FFFD.
func DecodeString(name, s string) (string, error) {
	e, err := Lookup(name)
	if err != nil {
		return "", err
	}
	if e == utf8Nop {
		return s, nil
	}
	return e.NewDecoder().String(s)
}

// Decode is DecodeString for byte slices; it may return b itself.
func Decode(name string, b []byte) ([]byte, error) {
	e, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if e == utf8Nop {
		return b, nil
	}
	return e.NewDecoder().Bytes(b)
}
