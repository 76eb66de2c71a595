package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mailwire/mailwire/internal/charset"
)

// MaxWordLength is the longest encoded word generated (RFC 2047 §2).
const MaxWordLength = 75

// encodedLineLength is the longest line holding an encoded word that is
// generated (RFC 2047 §2).
const encodedLineLength = 76

// WordError reports an encoded word that was left undecoded.
type WordError struct {
	Word string // the encoded word as found
	Err  error  // what was wrong with it, e.g. a *charset.UnknownError
}

func (e *WordError) Error() string {
	return fmt.Sprintf("message: encoded word %q: %v", e.Word, e.Err)
}

func (e *WordError) Unwrap() error { return e.Err }

var errBadEncoding = errors.New("malformed encoded text")

// DecodeWords decodes the RFC 2047 encoded words in s, in B or Q encoding and
// any charset that internal/charset knows, and returns the text in UTF-8.
// White space between adjacent encoded words is removed (RFC 2047 §6.2), and
// the bytes of adjacent words in the same charset are decoded together, which
// repairs characters split across words by careless encoders; bytes that
// are still not valid in the charset become U+FFFD. Words that are
// malformed or in an unknown charset are left as they are; the error then
// reports the first of them as a *WordError, and the string is still the best
// decoding.
func DecodeWords(s string) (string, error) {
	if !strings.Contains(s, "=?") {
		return s, nil
	}
	var (
		out      strings.Builder
		firstErr error
		// A run of adjacent words in one charset not yet decoded.
		pendCS   string
		pendText []byte
		// White space seen after the last word; written only if what
		// follows is not another encoded word.
		pendWS string
		inWord bool // the last thing output was an encoded word
	)
	flush := func() {
		if pendCS == "" {
			return
		}
		dec, err := charset.Decode(pendCS, pendText)
		if err != nil {
			// Unknown charset: such words were not collected (see below);
			// this only happens for decoder failures.
			dec = pendText
		}
		// UTF-8 and US-ASCII words pass through undecoded; bytes that
		// are not UTF-8 in them (or in a failed decoding) must not
		// reach the caller, who was promised UTF-8.
		if !utf8.Valid(dec) {
			dec = bytes.ToValidUTF8(dec, []byte("\uFFFD"))
		}
		out.Write(dec)
		pendCS, pendText = "", pendText[:0]
	}
	out.Grow(len(s))
	i, dead := 0, 0
	for i < len(s) {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			break
		}
		j += i
		cs, text, end, ok := parseWord(s, j, &dead)
		if !ok {
			// Not an encoded word: copy up to and including "=?".
			flush()
			out.WriteString(pendWS)
			pendWS = ""
			out.WriteString(s[i : j+2])
			inWord = false
			i = j + 2
			continue
		}
		between := s[i:j]
		if !(inWord && isAllWSP(between)) {
			flush()
			out.WriteString(pendWS)
			out.WriteString(between)
		}
		pendWS = ""
		var raw []byte
		err := checkCharset(cs)
		if err == nil {
			raw, err = decodeWordText(s[j:end], text)
		}
		if err != nil {
			flush()
			if firstErr == nil {
				firstErr = &WordError{Word: s[j:end], Err: err}
			}
			out.WriteString(s[j:end])
			inWord = false
			i = end
			continue
		}
		if pendCS != "" && !strings.EqualFold(pendCS, cs) {
			flush()
		}
		pendCS = cs
		pendText = append(pendText, raw...)
		inWord = true
		i = end
		// Hold back white space that may separate this word from the next.
		k := i
		for k < len(s) && isWSPorNL(s[k]) {
			k++
		}
		pendWS = s[i:k]
		i = k
	}
	flush()
	out.WriteString(pendWS)
	out.WriteString(s[i:])
	return out.String(), firstErr
}

func isWSPorNL(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isAllWSP(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWSPorNL(s[i]) {
			return false
		}
	}
	return true
}

// checkCharset reports whether cs can be decoded, quickly for UTF-8.
func checkCharset(cs string) error {
	if charset.IsUTF8(cs) {
		return nil
	}
	_, err := charset.Lookup(cs)
	return err
}

// parseWord parses an encoded word at s[i:] (which starts with "=?"):
// "=?" charset ["*" language] "?" encoding "?" encoded-text "?=". It returns
// the charset, the encoding letter plus text, and the end offset.
//
// *dead is an offset before which no encoded text can end: a text scan that
// failed stopped there, and any later scan starting before it would stop
// there too. Remembering it keeps decoding linear on hostile input.
func parseWord(s string, i int, dead *int) (cs, text string, end int, ok bool) {
	p := i + 2
	q := p
	for q < len(s) && s[q] != '?' {
		if !isTokenChar(s[q]) {
			return
		}
		q++
	}
	if q == p || q+3 >= len(s) || s[q+2] != '?' {
		return
	}
	cs = s[p:q]
	if k := strings.IndexByte(cs, '*'); k >= 0 { // RFC 2231 §5 language
		cs = cs[:k]
		if cs == "" {
			return
		}
	}
	enc := s[q+1]
	if enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q' {
		return
	}
	t := q + 3
	if t < *dead {
		return
	}
	e := t
	for ; e < len(s); e++ {
		c := s[e]
		if c == '?' && e+1 < len(s) && s[e+1] == '=' {
			return cs, s[q+1 : e], e + 2, true
		}
		if c <= ' ' || c >= 0x7f {
			break // no white space or 8-bit text in an encoded word
		}
	}
	*dead = e
	return
}

// isTokenChar: RFC 2047 §2 token, any CHAR except SPACE, CTLs and especials.
func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune("()<>@,;:\"/[]?.=", rune(c))
}

// decodeWordText decodes the encoding letter + text of a word.
func decodeWordText(word, text string) ([]byte, error) {
	enc, t := text[0], text[2:]
	if enc == 'B' || enc == 'b' {
		t = strings.TrimRight(t, "=")
		b, err := base64.RawStdEncoding.DecodeString(t)
		if err != nil {
			return nil, errBadEncoding
		}
		return b, nil
	}
	b := make([]byte, 0, len(t))
	for k := 0; k < len(t); k++ {
		c := t[k]
		switch {
		case c == '_':
			b = append(b, ' ')
		case c == '=':
			if k+2 < len(t) && isHex(t[k+1]) && isHex(t[k+2]) {
				b = append(b, unhex(t[k+1])<<4|unhex(t[k+2]))
				k += 2
			} else {
				return nil, errBadEncoding
			}
		default:
			b = append(b, c)
		}
	}
	return b, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// needsEncoding reports whether a word of unstructured text must be encoded:
// it has bytes outside printable ASCII, or looks like an encoded word.
func needsEncoding(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 0x7f || c < ' ' && c != '\t' {
			return true
		}
	}
	return strings.Contains(w, "=?") && strings.Contains(w, "?=")
}

// EncodeText encodes unstructured text (RFC 5322 §3.2.5, e.g. a Subject) for
// a header: if it holds only printable ASCII it is returned unchanged;
// otherwise the span from the first word needing encoding to the last is
// replaced by UTF-8 encoded words of at most 75 characters each (RFC 2047
// §2), separated by spaces so that the field can be folded between them.
// Multi-byte characters are never split across words.
func EncodeText(s string) string { return encodeText(s, 0) }

// encodeText is EncodeText for a value that will follow indent characters
// on its first line.
func encodeText(s string, indent int) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	first, last := -1, -1
	for i, w := range words {
		if needsEncoding(w) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return s
	}
	// Locate the span in s, so that the white space inside it is kept
	// exactly (it becomes part of the encoded text).
	start, end := wordOffsets(s, first, last)
	var b strings.Builder
	b.WriteString(s[:start])
	if start > 0 {
		indent = 0 // the encoded words do not start the line
	}
	encodeWords(&b, s[start:end], indent)
	b.WriteString(s[end:])
	return b.String()
}

// wordOffsets returns the start of word first and the end of word last in s,
// counting words as runs of characters other than space, tab, CR and LF.
func wordOffsets(s string, first, last int) (start, end int) {
	n := -1
	inWord := false
	for i := 0; i <= len(s); i++ {
		sp := i == len(s) || isWSPorNL(s[i])
		if !sp && !inWord {
			inWord = true
			n++
			if n == first {
				start = i
			}
		} else if sp && inWord {
			inWord = false
			if n == last {
				return start, i
			}
		}
	}
	return start, len(s)
}

// EncodePhrase encodes a display name or other phrase (RFC 2047 §5(3)): a
// phrase with bytes outside printable ASCII becomes UTF-8 encoded words in
// full; otherwise it is returned unchanged (quoting is the caller's business).
func EncodePhrase(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f || s[i] < ' ' {
			var b strings.Builder
			encodeWords(&b, s, 0)
			return b.String()
		}
	}
	return s
}

// qLiteral marks the bytes written as themselves in Q encoding: the set RFC
// 2047 §5(3) allows in a phrase, which is safe in any header context.
var qLiteral = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!*+-/" {
		t[c] = true
	}
	return t
}()

// encodeWords writes s as a sequence of UTF-8 encoded words separated by
// single spaces, choosing B or Q encoding, whichever is shorter.
//
// The first word is made short enough to end by column 76 (RFC 2047 §2:
// a line with an encoded word is at most 76 characters) after indent
// characters already on its line; it holds at least one character.
func encodeWords(b *strings.Builder, s string, indent int) {
	// The words are labelled UTF-8, so bytes that are not (a raw 8-bit
	// name read from an old message) become U+FFFD.
	s = strings.ToValidUTF8(s, "\uFFFD")
	const overhead = len("=?UTF-8?Q??=")
	room := MaxWordLength - overhead // encoded text per word
	if r := encodedLineLength - indent - overhead; indent > 0 && r < room {
		room = max(r, 1)
	}
	escapes := 0
	for i := 0; i < len(s); i++ {
		if !qLiteral[s[i]] && s[i] != ' ' {
			escapes++
		}
	}
	// Prefer the readable Q unless B is clearly shorter.
	bLen := (len(s) + 2) / 3 * 4
	useB := len(s)+2*escapes > bLen+bLen/2
	first := true
	for len(s) > 0 {
		// Take as many whole characters as fit in one word.
		n, size := 0, 0
		for n < len(s) {
			_, w := utf8.DecodeRuneInString(s[n:])
			var add int
			if useB {
				add = (n+w+2)/3*4 - size
			} else {
				add = 0
				for k := n; k < n+w; k++ {
					if qLiteral[s[k]] || s[k] == ' ' {
						add++
					} else {
						add += 3
					}
				}
			}
			if size+add > room && n > 0 {
				break
			}
			size += add
			n += w
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		room = MaxWordLength - overhead
		chunk := s[:n]
		s = s[n:]
		if useB {
			b.WriteString("=?UTF-8?B?")
			b.WriteString(base64.StdEncoding.EncodeToString([]byte(chunk)))
		} else {
			b.WriteString("=?UTF-8?Q?")
			for k := 0; k < len(chunk); k++ {
				c := chunk[k]
				switch {
				case c == ' ':
					b.WriteByte('_')
				case qLiteral[c]:
					b.WriteByte(c)
				default:
					b.WriteByte('=')
					b.WriteByte("0123456789ABCDEF"[c>>4])
					b.WriteByte("0123456789ABCDEF"[c&15])
				}
			}
		}
		b.WriteString("?=")
	}
}
