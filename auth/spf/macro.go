package spf

import (
	"strconv"
	"strings"
)

// maxMacroDigits caps the DIGIT transformer; RFC 7208 §7.3 asks for at
// least 127, the most labels a domain name can have. Larger values keep
// all parts, as a value larger than the number of parts does.
const maxMacroDigits = 1 << 16

// macroString is a parsed macro-string or explain-string (RFC 7208 §7.1).
type macroString struct {
	src   string
	parts []macroPart
}

// macroPart is a literal (letter 0) or a macro-expand.
type macroPart struct {
	literal string
	letter  byte   // lower-case macro letter, or 0 for a literal
	upper   bool   // URL-escape the expansion (RFC 7208 §7.3)
	digits  int    // keep this many right-hand parts; 0 means all
	reverse bool   // the "r" transformer
	delims  string // delimiters; "" means "."
}

// macroKind says where a macro-string stands, which decides the letters
// and characters it may hold.
type macroKind int

const (
	domainMacro  macroKind = iota // domain-spec of a mechanism or modifier
	modMacro                      // value of an unknown modifier
	explainMacro                  // explain-string of an exp TXT record
)

// parseMacro parses s as a macro-string (or, for explainMacro, an
// explain-string, which may hold spaces). On error it returns the offset
// in s of the offending character and what is wrong.
func parseMacro(s string, kind macroKind) (*macroString, int, string) {
	m := &macroString{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			m.parts = append(m.parts, macroPart{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c != '%' {
			// RFC 7208 §7.1: macro-literal = %x21-24 / %x26-7E; an
			// explain-string also allows SP.
			if c < 0x21 || c > 0x7e {
				if !(c == ' ' && kind == explainMacro) {
					return nil, i, "character " + strconv.QuoteRune(rune(c)) + " not allowed"
				}
			}
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return nil, i, "'%' at end of macro-string"
		}
		switch s[i+1] {
		case '%':
			lit.WriteByte('%')
			i += 2
			continue
		case '_':
			lit.WriteByte(' ')
			i += 2
			continue
		case '-':
			lit.WriteString("%20")
			i += 2
			continue
		case '{':
		default:
			// RFC 7208 §7.3: a '%' not followed by '{', '%', '-' or
			// '_' is a syntax error.
			return nil, i, "'%' not followed by '{', '%', '-' or '_'"
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, i, "unterminated macro"
		}
		p, off, msg := parseExpand(s[i+2:i+end], kind)
		if msg != "" {
			return nil, i + 2 + off, msg
		}
		flush()
		m.parts = append(m.parts, p)
		i += end + 1
	}
	flush()
	return m, 0, ""
}

// parseExpand parses the inside of "%{...}": macro-letter transformers
// *delimiter.
func parseExpand(s string, kind macroKind) (macroPart, int, string) {
	var p macroPart
	if s == "" {
		return p, 0, "empty macro"
	}
	c := s[0]
	lc := c | 0x20
	switch lc {
	case 's', 'l', 'o', 'd', 'i', 'p', 'h', 'v':
	case 'c', 'r', 't':
		// RFC 7208 §7.2: allowed only in "exp" text.
		if kind != explainMacro {
			return p, 0, "macro letter '" + string(c) + "' allowed only in explanations"
		}
	default:
		return p, 0, "unknown macro letter " + strconv.QuoteRune(rune(c))
	}
	p.letter = lc
	p.upper = c >= 'A' && c <= 'Z'
	i := 1
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > start {
		digits := s[start:i]
		n, err := strconv.Atoi(digits)
		if err != nil || n > maxMacroDigits {
			n = maxMacroDigits
		}
		if n == 0 {
			// RFC 7208 §7.3: "If a DIGIT is specified, the value MUST
			// be nonzero."
			return p, start, "zero digit transformer"
		}
		p.digits = n
	}
	if i < len(s) && (s[i] == 'r' || s[i] == 'R') {
		p.reverse = true
		i++
	}
	ds := i
	for ; i < len(s); i++ {
		if !strings.ContainsRune(".-+,/_=", rune(s[i])) {
			return p, i, "invalid delimiter " + strconv.QuoteRune(rune(s[i]))
		}
	}
	p.delims = s[ds:]
	return p, 0, ""
}

// String returns m as written in the record.
func (m *macroString) String() string { return m.src }

// endsWithExpand reports whether the last part of m is a macro expansion
// such as %{d} (domain-end = "." toplabel ["."] / macro-expand). "%%",
// "%_" and "%-" are macro-expands in the ABNF too; they are kept as
// literals here, so the caller checks for them in the source text.
func (m *macroString) endsWithExpand() bool {
	return len(m.parts) > 0 && m.parts[len(m.parts)-1].letter != 0
}

// macroEnv holds the values macros expand to.
type macroEnv interface {
	macroValue(letter byte) (string, error)
}

// expand returns the expansion of m (RFC 7208 §7.3).
func (m *macroString) expand(env macroEnv) (string, error) {
	if len(m.parts) == 1 && m.parts[0].letter == 0 {
		return m.parts[0].literal, nil
	}
	var b strings.Builder
	for _, p := range m.parts {
		if p.letter == 0 {
			b.WriteString(p.literal)
			continue
		}
		v, err := env.macroValue(p.letter)
		if err != nil {
			return "", err
		}
		v = p.transform(v)
		if p.upper {
			v = urlEscape(v)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// transform applies the transformers and delimiters of p to v.
func (p macroPart) transform(v string) string {
	if p.digits == 0 && !p.reverse && p.delims == "" {
		return v
	}
	delims := p.delims
	if delims == "" {
		delims = "."
	}
	parts := splitAny(v, delims)
	if p.reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if p.digits > 0 && p.digits < len(parts) {
		parts = parts[len(parts)-p.digits:]
	}
	return strings.Join(parts, ".")
}

// splitAny splits v at every byte found in delims, keeping empty parts
// (RFC 7208 §7.3: "no special treatment is given to leading, trailing,
// or consecutive delimiters").
func splitAny(v, delims string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(delims, v[i]) >= 0 {
			parts = append(parts, v[start:i])
			start = i + 1
		}
	}
	return append(parts, v[start:])
}

// urlEscape escapes the bytes of v outside RFC 3986's "unreserved" set
// (RFC 7208 §7.3: upper-case macro letters).
func urlEscape(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}
