package auth

import (
	"errors"
	"strings"

	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

var errProhibited = errors.New("auth: SASLprep: prohibited character")

// SASLprep prepares a user name or password as RFC 4013 specifies (the
// stringprep profile of RFC 3454 used by SCRAM and PLAIN), for a query:
// unassigned code points are allowed. It maps non-ASCII spaces to SPACE,
// removes characters "commonly mapped to nothing", normalises to NFKC (with
// the Unicode version of golang.org/x/text rather than 3.2), and rejects
// prohibited characters and bad bidirectional text with an error wrapping
// ErrMalformed.
func SASLprep(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 || c == 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return s, nil // the common case: nothing to map, normalise or prohibit
	}
	// RFC 4013 §2.1: mapping.
	var b strings.Builder
	for _, r := range s {
		switch {
		case nonASCIISpace(r):
			b.WriteByte(' ')
		case mappedToNothing(r):
		default:
			b.WriteRune(r)
		}
	}
	// §2.2: normalisation.
	out := norm.NFKC.String(b.String())
	// §2.3 and §2.4: prohibited output and bidirectional text (RFC 3454 §6).
	hasRAL, hasL := false, false
	for _, r := range out {
		if prohibited(r) {
			return "", errors.Join(ErrMalformed, errProhibited)
		}
		p, _ := bidi.LookupRune(r)
		switch p.Class() {
		case bidi.R, bidi.AL:
			hasRAL = true
		case bidi.L:
			hasL = true
		}
	}
	if hasRAL {
		first, _ := bidi.LookupRune([]rune(out)[0])
		rs := []rune(out)
		last, _ := bidi.LookupRune(rs[len(rs)-1])
		isRAL := func(p bidi.Properties) bool { return p.Class() == bidi.R || p.Class() == bidi.AL }
		if hasL || !isRAL(first) || !isRAL(last) {
			return "", errors.Join(ErrMalformed, errors.New("auth: SASLprep: bad bidirectional text"))
		}
	}
	return out, nil
}

// prepOrRaw applies SASLprep, keeping s as it is when SASLprep refuses it,
// so that both ends of an exchange, doing the same, still agree.
func prepOrRaw(s string) string {
	if p, err := SASLprep(s); err == nil {
		return p
	}
	return s
}

// RFC 3454 C.1.2
func nonASCIISpace(r rune) bool {
	return r == 0x00A0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200B) || r == 0x202F || r == 0x205F || r == 0x3000
}

// RFC 3454 B.1
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x1806, r >= 0x180B && r <= 0x180D,
		r >= 0x200B && r <= 0x200D, r == 0x2060, r >= 0xFE00 && r <= 0xFE0F, r == 0xFEFF:
		return true
	}
	return false
}

// RFC 4013 §2.3: RFC 3454 C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7,
// C.8, C.9.
func prohibited(r rune) bool {
	switch {
	case nonASCIISpace(r): // C.1.2
		return true
	case r < 0x20 || r == 0x7F: // C.2.1
		return true
	case r >= 0x80 && r <= 0x9F, r == 0x06DD, r == 0x070F, r == 0x180E, r == 0x200C, r == 0x200D,
		r == 0x2028, r == 0x2029, r >= 0x2060 && r <= 0x2063, r >= 0x206A && r <= 0x206F,
		r == 0xFEFF, r >= 0xFFF9 && r <= 0xFFFC, r >= 0x1D173 && r <= 0x1D17A: // C.2.2
		return true
	case r >= 0xE000 && r <= 0xF8FF, r >= 0xF0000 && r <= 0xFFFFD, r >= 0x100000 && r <= 0x10FFFD: // C.3
		return true
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE: // C.4
		return true
	case r >= 0xD800 && r <= 0xDFFF: // C.5
		return true
	case r >= 0xFFF9 && r <= 0xFFFD: // C.6
		return true
	case r >= 0x2FF0 && r <= 0x2FFB: // C.7
		return true
	case r == 0x0340, r == 0x0341, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E: // C.8
		return true
	case r == 0xE0001, r >= 0xE0020 && r <= 0xE007F: // C.9
		return true
	}
	return false
}
