package authres

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Parse parses the value of an Authentication-Results field (the text
// after the colon, folded or not) as RFC 8601 §2.2 defines it.
//
// Parse follows the grammar, comments (CFWS) included wherever it allows
// them, and is lenient where fields in the wild depart from it: a value
// (reason, pvalue, and authserv-id except that it may not hold '=') may
// be any run of characters other than white space, parentheses, ';',
// '"' and '\', so IPv6 addresses and
// base64 fragments need no quotes; a bare "name=value" inside a resinfo
// becomes a Property without Type; reason may come after properties; a
// final ';' is allowed. Method, result, ptype and property names are
// returned in lower case. Text in quoted strings and comments must be
// valid UTF-8 without control characters other than tab.
//
// Errors are *SyntaxError. For a version other than 1 the error wraps
// ErrUnknownVersion and the returned Results holds the AuthServID and
// Version (RFC 8601 §2.6).
func Parse(value string) (*Results, error) {
	p := &parser{s: value}
	return p.parse()
}

type parser struct {
	s       string
	i       int
	comment *string // where comments go, nil to drop them
}

func (p *parser) errf(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) eof() bool { return p.i >= len(p.s) }

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) parse() (*Results, error) {
	if err := p.cfws(); err != nil {
		return nil, err
	}
	start := p.i
	id, err := p.value()
	if err != nil {
		return nil, err
	}
	if id == "" || p.s[start] != '"' && strings.IndexByte(id, '=') >= 0 {
		// A field that starts with "method=result" lacks the
		// identifier consumers need to decide whether to trust it.
		return nil, p.errf(start, "missing authserv-id")
	}
	res := &Results{AuthServID: id}
	if err := p.cfws(); err != nil {
		return nil, err
	}
	if c := p.peek(); isDigit(c) {
		start := p.i
		v, err := p.number("authres-version")
		if err != nil {
			return nil, err
		}
		res.Version = v
		if v != 1 {
			return res, &SyntaxError{Offset: start, Msg: "version " + strconv.Itoa(v), Err: ErrUnknownVersion}
		}
		if err := p.cfws(); err != nil {
			return nil, err
		}
	}
	if p.eof() {
		return nil, p.errf(p.i, "missing results after authserv-id")
	}
	if p.peek() != ';' {
		return nil, p.errf(p.i, "expected ';' after authserv-id, found %q", p.peek())
	}
	for !p.eof() {
		// p.s[p.i] == ';'
		p.i++
		var r Result
		p.comment = &r.Comment
		if err := p.cfws(); err != nil {
			return nil, err
		}
		if p.eof() {
			if len(res.Results) == 0 {
				return nil, p.errf(p.i, "missing result after ';'")
			}
			break // a trailing ';'
		}
		start := p.i
		method := p.keyword()
		if method == "" {
			return nil, p.errf(p.i, "expected a method name, found %q", p.peek())
		}
		if err := p.cfws(); err != nil {
			return nil, err
		}
		if method == "none" && p.eof() && len(res.Results) == 0 {
			// no-result (RFC 8601 §2.2): no authentication was done.
			p.comment = nil
			return res, nil
		}
		r.Method = method
		if p.peek() == '/' {
			p.i++
			if err := p.cfws(); err != nil {
				return nil, err
			}
			v, err := p.number("method-version")
			if err != nil {
				return nil, err
			}
			r.Version = v
			if err := p.cfws(); err != nil {
				return nil, err
			}
		}
		if p.peek() != '=' {
			if method == "none" {
				return nil, p.errf(start, "\"none\" must be the only result")
			}
			return nil, p.errf(p.i, "expected '=' after method %q", method)
		}
		p.i++
		if err := p.cfws(); err != nil {
			return nil, err
		}
		r.Value = p.keyword()
		if r.Value == "" {
			return nil, p.errf(p.i, "missing result of method %q", method)
		}
		if err := p.resinfoRest(&r); err != nil {
			return nil, err
		}
		res.Results = append(res.Results, r)
	}
	p.comment = nil
	return res, nil
}

// resinfoRest parses the reasonspec and propspecs after a methodspec, up
// to the next ';' or the end.
func (p *parser) resinfoRest(r *Result) error {
	haveReason := false
	for {
		if err := p.cfws(); err != nil {
			return err
		}
		if p.eof() || p.peek() == ';' {
			return nil
		}
		start := p.i
		name := p.keyword()
		if name == "" {
			return p.errf(p.i, "expected a property, found %q", p.peek())
		}
		if err := p.cfws(); err != nil {
			return err
		}
		prop := Property{Name: name}
		switch p.peek() {
		case '.':
			p.i++
			if err := p.cfws(); err != nil {
				return err
			}
			prop.Type = name
			prop.Name = p.keyword()
			if prop.Name == "" {
				return p.errf(p.i, "missing property name after %q", name+".")
			}
			if err := p.cfws(); err != nil {
				return err
			}
			if p.peek() != '=' {
				return p.errf(p.i, "expected '=' after %q", prop.Type+"."+prop.Name)
			}
		case '=':
		default:
			return p.errf(p.i, "expected '.' or '=' after %q", name)
		}
		p.i++ // '='
		if err := p.cfws(); err != nil {
			return err
		}
		vstart := p.i
		v, err := p.pvalue()
		if err != nil {
			return err
		}
		if p.i == vstart {
			return p.errf(p.i, "missing value of %q", name)
		}
		if prop.Type == "" && name == "reason" {
			if haveReason {
				return p.errf(start, "reason given twice")
			}
			haveReason = true
			r.Reason = v
			continue
		}
		prop.Value = v
		r.Properties = append(r.Properties, prop)
	}
}

// number reads 1*DIGIT, at most 9 digits.
func (p *parser) number(what string) (int, error) {
	start := p.i
	for !p.eof() && isDigit(p.peek()) {
		p.i++
	}
	if p.i == start {
		return 0, p.errf(start, "missing %s", what)
	}
	if p.i-start > 9 {
		return 0, p.errf(start, "%s too long", what)
	}
	n, _ := strconv.Atoi(p.s[start:p.i])
	return n, nil
}

// keyword reads a Keyword (RFC 5321 §4.1.2: letters, digits, hyphens)
// and returns it in lower case; "" if there is none.
func (p *parser) keyword() string {
	start := p.i
	for !p.eof() && isKeywordChar(p.peek()) {
		p.i++
	}
	return strings.ToLower(p.s[start:p.i])
}

// value reads a MIME value: a quoted-string or, leniently, a run of
// characters that cannot start or end anything else.
func (p *parser) value() (string, error) {
	if p.peek() == '"' {
		return p.quoted()
	}
	start := p.i
	for !p.eof() && isRunChar(p.peek()) {
		p.i++
	}
	v := p.s[start:p.i]
	if !utf8.ValidString(v) {
		return "", p.errf(start, "invalid UTF-8")
	}
	return v, nil
}

// pvalue reads a value, or a local-part "@" domain whose local-part is a
// quoted-string; the latter is kept as written.
func (p *parser) pvalue() (string, error) {
	start := p.i
	quoted := p.peek() == '"'
	v, err := p.value()
	if err != nil {
		return "", err
	}
	if quoted && p.peek() == '@' {
		if _, err := p.value(); err != nil {
			return "", err
		}
		// Keep the quoted form: the value is an address.
		return p.s[start:p.i], nil
	}
	return v, nil
}

// quoted reads a quoted-string (RFC 5322 §3.2.4, RFC 6532 §3.2) and
// returns its content, unfolded and with quoted-pairs resolved.
func (p *parser) quoted() (string, error) {
	start := p.i
	p.i++ // '"'
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errf(start, "unterminated quoted-string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			v := b.String()
			if !utf8.ValidString(v) {
				return "", p.errf(start, "invalid UTF-8 in quoted-string")
			}
			return v, nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errf(p.i, "unterminated quoted-pair")
			}
			q := p.s[p.i+1]
			if isCtl(q) {
				return "", p.errf(p.i+1, "control character in quoted-pair")
			}
			b.WriteByte(q)
			p.i += 2
		case c == '\r' || c == '\n':
			if !p.fold() {
				return "", p.errf(p.i, "line break in quoted-string")
			}
		case isCtl(c):
			return "", p.errf(p.i, "control character in quoted-string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

// fold skips a CRLF (or bare LF) followed by white space, the white space
// kept; it reports false if there is no such fold at p.i.
func (p *parser) fold() bool {
	j := p.i
	if j < len(p.s) && p.s[j] == '\r' {
		j++
	}
	if j < len(p.s) && p.s[j] == '\n' {
		j++
	} else {
		return false
	}
	if j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		p.i = j
		return true
	}
	if j == len(p.s) {
		// The line end of the field itself.
		p.i = j
		return true
	}
	return false
}

// cfws skips white space, folds and comments (RFC 5322 §3.2.2),
// appending the text of comments to *p.comment.
func (p *parser) cfws() error {
	for !p.eof() {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t':
			p.i++
		case c == '\r' || c == '\n':
			if !p.fold() {
				return p.errf(p.i, "line break not followed by white space")
			}
		case c == '(':
			if err := p.commentText(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// commentText reads a comment, nested comments included, and records
// its content.
func (p *parser) commentText() error {
	start := p.i
	p.i++ // '('
	depth := 1
	var b strings.Builder
	for {
		if p.eof() {
			return p.errf(start, "unterminated comment")
		}
		c := p.s[p.i]
		switch {
		case c == '(':
			depth++
			b.WriteByte(c)
			p.i++
		case c == ')':
			depth--
			p.i++
			if depth == 0 {
				text := b.String()
				if !utf8.ValidString(text) {
					return p.errf(start, "invalid UTF-8 in comment")
				}
				if p.comment != nil {
					if *p.comment != "" {
						*p.comment += " "
					}
					*p.comment += text
				}
				return nil
			}
			b.WriteByte(c)
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return p.errf(p.i, "unterminated quoted-pair")
			}
			q := p.s[p.i+1]
			if isCtl(q) {
				return p.errf(p.i+1, "control character in quoted-pair")
			}
			b.WriteByte(q)
			p.i += 2
		case c == '\r' || c == '\n':
			if !p.fold() {
				return p.errf(p.i, "line break in comment")
			}
		case isCtl(c):
			return p.errf(p.i, "control character in comment")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isKeywordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-'
}

// isCtl reports a control character other than horizontal tab.
func isCtl(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }

// isRunChar reports the characters of an unquoted value as Parse reads
// it: anything but white space, controls, and ( ) ; " \.
func isRunChar(c byte) bool {
	switch c {
	case ' ', '\t', '(', ')', ';', '"', '\\':
		return false
	}
	return !isCtl(c) && c != '\r' && c != '\n'
}
