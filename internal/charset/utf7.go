package charset

import (
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// UTF7 is the UTF-7 encoding of RFC 2152. Its decoder turns malformed base64
// runs and unpaired surrogates into U+FFFD; its encoder writes the characters of
// RFC 2152's Set D and white space directly and everything else in base64.
var UTF7 encoding.Encoding = utf7Encoding{}

type utf7Encoding struct{}

func (utf7Encoding) NewDecoder() *encoding.Decoder {
	return &encoding.Decoder{Transformer: &utf7Decoder{}}
}

func (utf7Encoding) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: &utf7Encoder{}}
}

func (utf7Encoding) String() string { return "UTF-7" }

const b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var b64val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(b64chars); i++ {
		t[b64chars[i]] = int8(i)
	}
	return t
}()

// utf7Decoder is the state of a UTF-7 decode. RFC 2152: "+" starts a run of
// modified base64 carrying UTF-16 code units; the run ends at the first
// character outside the base64 alphabet, and a "-" that ends it is absorbed.
// "+-" stands for "+".
type utf7Decoder struct {
	inB64  bool
	start  bool   // just after "+", nothing decoded yet
	bits   uint32 // pending bits, low nbits valid
	nbits  uint
	high   rune // pending high surrogate, or 0
	broken bool // the run had an error already reported
}

func (d *utf7Decoder) Reset() { *d = utf7Decoder{} }

// endRun closes a base64 run, writing U+FFFD for anything left incomplete.
func (d *utf7Decoder) endRun(dst []byte) int {
	n := 0
	bad := false
	if d.high != 0 {
		bad = true
	}
	// RFC 2152: leftover bits must be fewer than six and all zero.
	if d.nbits >= 6 || d.bits&(1<<d.nbits-1) != 0 {
		bad = true
	}
	if bad {
		n += utf8.EncodeRune(dst, utf8.RuneError)
	}
	d.inB64, d.start, d.bits, d.nbits, d.high, d.broken = false, false, 0, 0, 0, false
	return n
}

func (d *utf7Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		// Each input byte yields at most two runes (an orphan surrogate's
		// U+FFFD and a character): 8 bytes is always enough.
		if len(dst)-nDst < 8 {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		if d.inB64 {
			v := b64val[c]
			if v >= 0 {
				nSrc++
				d.start = false
				d.bits = d.bits<<6 | uint32(v)
				d.nbits += 6
				if d.nbits >= 16 {
					d.nbits -= 16
					u := rune(d.bits >> d.nbits & 0xffff)
					d.bits &= 1<<d.nbits - 1
					nDst += d.unit(dst[nDst:], u)
				}
				continue
			}
			if c == '-' && d.start {
				// "+-" is a literal "+".
				nSrc++
				dst[nDst] = '+'
				nDst++
				d.inB64, d.start = false, false
				continue
			}
			if d.start {
				// "+" followed by a non-base64 character is ill-formed;
				// keep the "+" rather than lose it.
				dst[nDst] = '+'
				nDst++
			}
			nDst += d.endRun(dst[nDst:])
			if c == '-' {
				nSrc++
				continue
			}
			// Fall through: c is an ordinary character.
		}
		nSrc++
		switch {
		case c == '+':
			d.inB64, d.start = true, true
		case c < utf8.RuneSelf:
			dst[nDst] = c
			nDst++
		default:
			// 8-bit bytes have no place in UTF-7.
			nDst += utf8.EncodeRune(dst[nDst:], utf8.RuneError)
		}
	}
	if atEOF && d.inB64 {
		if len(dst)-nDst < 4 {
			return nDst, nSrc, transform.ErrShortDst
		}
		if d.start {
			// A lone "+" at the end: nothing was encoded; keep it visible.
			d.Reset()
			dst[nDst] = '+'
			return nDst + 1, nSrc, nil
		}
		nDst += d.endRun(dst[nDst:])
	}
	return nDst, nSrc, nil
}

// unit handles one decoded UTF-16 code unit.
func (d *utf7Decoder) unit(dst []byte, u rune) int {
	n := 0
	switch {
	case 0xd800 <= u && u < 0xdc00:
		if d.high != 0 {
			n += utf8.EncodeRune(dst, utf8.RuneError)
		}
		d.high = u
	case 0xdc00 <= u && u < 0xe000:
		if d.high == 0 {
			return utf8.EncodeRune(dst, utf8.RuneError)
		}
		r := utf16.DecodeRune(d.high, u)
		d.high = 0
		n += utf8.EncodeRune(dst, r)
	default:
		if d.high != 0 {
			n += utf8.EncodeRune(dst, utf8.RuneError)
			d.high = 0
		}
		n += utf8.EncodeRune(dst[n:], u)
	}
	return n
}

// utf7Direct marks the characters written as themselves: RFC 2152 Set D plus
// space, tab, CR and LF.
var utf7Direct = func() (t [128]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'(),-./:? \t\r\n" {
		t[c] = true
	}
	return t
}()

type utf7Encoder struct {
	inB64 bool
	bits  uint32
	nbits uint
}

func (e *utf7Encoder) Reset() { *e = utf7Encoder{} }

// close ends a base64 run: flush the last partial sextet, then "-" (always
// written, which RFC 2152 allows and which keeps a following "-" or base64
// character unambiguous).
func (e *utf7Encoder) close(dst []byte) int {
	n := 0
	if e.nbits > 0 {
		dst[n] = b64chars[(e.bits<<(6-e.nbits))&0x3f]
		n++
	}
	dst[n] = '-'
	n++
	e.inB64, e.bits, e.nbits = false, 0, 0
	return n
}

func (e *utf7Encoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		// One rune needs at most "+" and 2 units * 16 bits / 6 = 6 sextets,
		// or a close (2) plus "+-" (2).
		if len(dst)-nDst < 10 {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		if c < utf8.RuneSelf && (utf7Direct[c] || c == '+') {
			if e.inB64 {
				nDst += e.close(dst[nDst:])
			}
			nSrc++
			dst[nDst] = c
			nDst++
			if c == '+' {
				dst[nDst] = '-'
				nDst++
			}
			continue
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size == 1 && !atEOF && !utf8.FullRune(src[nSrc:]) {
			return nDst, nSrc, transform.ErrShortSrc
		}
		nSrc += size
		if !e.inB64 {
			dst[nDst] = '+'
			nDst++
			e.inB64 = true
		}
		var units [2]uint16
		k := 1
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			units[0], units[1], k = uint16(r1), uint16(r2), 2
		} else {
			units[0] = uint16(r)
		}
		for _, u := range units[:k] {
			e.bits = e.bits<<16 | uint32(u)
			e.nbits += 16
			for e.nbits >= 6 {
				e.nbits -= 6
				dst[nDst] = b64chars[e.bits>>e.nbits&0x3f]
				nDst++
			}
			e.bits &= 1<<e.nbits - 1
		}
	}
	if atEOF && e.inB64 {
		if len(dst)-nDst < 2 {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += e.close(dst[nDst:])
	}
	return nDst, nSrc, nil
}
