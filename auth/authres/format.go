package authres

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxLineLength is the line length Format folds to where it can (RFC 5322
// §2.1.1 recommends 78 characters); a single element longer than that
// stays whole on its line.
const MaxLineLength = 78

// Format returns the field value (the text after "Authentication-Results:")
// folded to lines of at most MaxLineLength characters where possible,
// counting the field name and ": " on the first line. Folds are CRLF
// followed by a space; the value does not end with CRLF. Write it as
//
//	"Authentication-Results: " + v + "\r\n"
//
// Folding happens only at white space between elements and inside
// comments and quoted strings, so unfolding gives String's text back.
//
// Values are quoted where they are not tokens (RFC 2045 §5.1) or, for
// properties, local-part@domain forms; a CR, LF or other control
// character, invalid UTF-8, an empty authserv-id or a method, result,
// ptype or property that is not a Keyword (RFC 5321 §4.1.2) is a
// *FormatError, so nothing a sender controls can add header fields.
func (r *Results) Format() (string, error) {
	w := writer{}
	if err := w.results(r); err != nil {
		return "", err
	}
	return w.folded(len(FieldName) + 2), nil
}

// Validate reports the *FormatError that Format would return, or nil.
func (r *Results) Validate() error {
	w := writer{}
	return w.results(r)
}

// String returns the value on one line, for message.Header.Add (which
// folds when it writes) and for logs. It is the same text as Format's
// unfolded when Validate returns nil; otherwise it never fails: invalid
// characters of keywords become '-', and control characters and invalid
// UTF-8 in values become '?', so the text is still safe to put in a
// header field.
func (r *Results) String() string {
	w := writer{sanitize: true}
	_ = w.results(r)
	return w.b.String()
}

// writer builds the one-line value and records where it may be folded.
type writer struct {
	b        strings.Builder
	breaks   []int // offsets of spaces that may become folds
	sanitize bool
}

func (w *writer) results(r *Results) error {
	if r.AuthServID == "" && !w.sanitize {
		return &FormatError{What: "authserv-id", Msg: "empty"}
	}
	if err := w.value("authserv-id", r.AuthServID, isToken); err != nil {
		return err
	}
	if r.Version != 0 {
		if r.Version < 0 && !w.sanitize {
			return &FormatError{What: "version", Value: strconv.Itoa(r.Version), Msg: "negative"}
		}
		w.space()
		w.b.WriteString(strconv.Itoa(max(r.Version, 0)))
	}
	w.b.WriteByte(';')
	if len(r.Results) == 0 {
		w.space()
		w.b.WriteString(None)
		return nil
	}
	for i := range r.Results {
		if i > 0 {
			w.b.WriteByte(';')
		}
		if err := w.result(&r.Results[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) result(r *Result) error {
	w.space()
	if err := w.keyword("method", r.Method); err != nil {
		return err
	}
	if r.Version != 0 {
		if r.Version < 0 && !w.sanitize {
			return &FormatError{What: "method-version", Value: strconv.Itoa(r.Version), Msg: "negative"}
		}
		w.b.WriteByte('/')
		w.b.WriteString(strconv.Itoa(max(r.Version, 0)))
	}
	w.b.WriteByte('=')
	if err := w.keyword("result", r.Value); err != nil {
		return err
	}
	if r.Comment != "" {
		w.space()
		if err := w.comment(r.Comment); err != nil {
			return err
		}
	}
	if r.Reason != "" {
		w.space()
		w.b.WriteString("reason=")
		if err := w.value("reason", r.Reason, isToken); err != nil {
			return err
		}
	}
	for _, p := range r.Properties {
		w.space()
		if p.Type != "" {
			if err := w.keyword("ptype", p.Type); err != nil {
				return err
			}
			w.b.WriteByte('.')
		} else if equalFold(p.Name, "reason") && !w.sanitize {
			// It would read back as the reason.
			return &FormatError{What: "property", Value: p.Name, Msg: "reserved without a ptype"}
		}
		if err := w.keyword("property", p.Name); err != nil {
			return err
		}
		w.b.WriteByte('=')
		if err := w.value("value", p.Value, isPValue); err != nil {
			return err
		}
	}
	return nil
}

// space writes a space at which the value may be folded.
func (w *writer) space() {
	w.breaks = append(w.breaks, w.b.Len())
	w.b.WriteByte(' ')
}

func (w *writer) keyword(what, s string) error {
	ok := s != ""
	for i := 0; i < len(s); i++ {
		if !isKeywordChar(s[i]) {
			ok = false
		}
	}
	if ok {
		w.b.WriteString(s)
		return nil
	}
	if !w.sanitize {
		return &FormatError{What: what, Value: s, Msg: "not a keyword"}
	}
	if s == "" {
		w.b.WriteByte('-')
	}
	for i := 0; i < len(s); i++ {
		if isKeywordChar(s[i]) {
			w.b.WriteByte(s[i])
		} else {
			w.b.WriteByte('-')
		}
	}
	return nil
}

// value writes s bare if plain accepts it, else as a quoted-string.
func (w *writer) value(what, s string, plain func(string) bool) error {
	if plain(s) {
		w.b.WriteString(s)
		return nil
	}
	w.b.WriteByte('"')
	err := w.text(what, s, '"')
	w.b.WriteByte('"')
	return err
}

func (w *writer) comment(s string) error {
	w.b.WriteByte('(')
	err := w.text("comment", s, ')')
	w.b.WriteByte(')')
	return err
}

// text writes the content of a quoted-string (end '"') or comment (end
// ')'), escaping what must be, and marking single spaces between
// non-space characters as places to fold.
func (w *writer) text(what, s string, end byte) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				if !w.sanitize {
					return &FormatError{What: what, Value: s, Msg: "invalid UTF-8"}
				}
				w.b.WriteByte('?')
			} else {
				w.b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		switch {
		case isCtl(c):
			if !w.sanitize {
				return &FormatError{What: what, Value: s, Msg: "control character"}
			}
			w.b.WriteByte('?')
		case c == '\\' || c == '"' || end == ')' && (c == '(' || c == ')'):
			w.b.WriteByte('\\')
			w.b.WriteByte(c)
		case c == ' ' && i > 0 && !isWSP(s[i-1]) && i+1 < len(s) && !isWSP(s[i+1]):
			w.space()
		default:
			w.b.WriteByte(c)
		}
		i++
	}
	return nil
}

// folded returns the value folded at the recorded spaces, lines no
// longer than MaxLineLength where possible; first is the length of the
// text before the value on the first line.
func (w *writer) folded(first int) string {
	s := w.b.String()
	if first+len(s) <= MaxLineLength {
		return s
	}
	var out strings.Builder
	out.Grow(len(s) + 3*len(w.breaks))
	lineLen := first
	prev := 0 // start of the pending segment
	for k := 0; k <= len(w.breaks); k++ {
		end := len(s)
		if k < len(w.breaks) {
			end = w.breaks[k]
		}
		seg := s[prev:end] // starts with a space, except the first
		if prev > 0 && lineLen+len(seg) > MaxLineLength {
			out.WriteString("\r\n")
			lineLen = 0
		}
		out.WriteString(seg)
		lineLen += len(seg)
		prev = end
	}
	return out.String()
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// isToken reports a MIME token (RFC 2045 §5.1): printable US-ASCII
// without tspecials.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
}

// isPValue reports a value a property may carry bare: a token, or
// [ [ local-part ] "@" ] domain-name (RFC 8601 §2.2) with a dot-atom
// local-part.
func isPValue(s string) bool {
	if isToken(s) {
		return true
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	return (local == "" || isDotAtom(local)) && isDomainName(domain)
}

func isDotAtom(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAtext(part[i]) {
				return false
			}
		}
	}
	return true
}

func isAtext(c byte) bool {
	return isKeywordChar(c) || strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0
}

// isDomainName reports a domain-name of RFC 6376 §3.5: labels of
// letters, digits and hyphens, starting and ending with a letter or
// digit.
func isDomainName(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isKeywordChar(l[i]) {
				return false
			}
		}
	}
	return true
}
