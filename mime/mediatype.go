package mime

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailwire/mailwire/internal/charset"
)

// ErrNoMediaType is returned by ParseMediaType for a value with no usable
// type/subtype (RFC 2045 §5.2 then says to treat the entity as text/plain).
var ErrNoMediaType = errors.New("mime: no media type")

// MediaType is a parsed Content-Type value (RFC 2045 §5.1).
type MediaType struct {
	Type    string // lower case, e.g. "text"
	Subtype string // lower case, e.g. "plain"

	// Params maps lower-case parameter names to their values, with RFC 2231
	// continuations joined and charsets decoded to UTF-8, and RFC 2047
	// encoded-words decoded where real mail puts them (the name and
	// filename parameters only).
	Params map[string]string

	// Languages maps a parameter name to the RFC 2231 language tag given with
	// it, when one was.
	Languages map[string]string

	// Defects lists the malformations tolerated while parsing.
	Defects []Defect
}

// String returns "type/subtype".
func (m MediaType) String() string { return m.Type + "/" + m.Subtype }

// Is reports whether m is t ("text/plain") or, for t of the form "text/*" or
// "text", of that top-level type. The match is case-insensitive.
func (m MediaType) Is(t string) bool {
	t = strings.ToLower(t)
	if top, ok := strings.CutSuffix(t, "/*"); ok {
		return m.Type == top
	}
	if !strings.Contains(t, "/") {
		return m.Type == t
	}
	return m.String() == t
}

// Param returns the named parameter (case-insensitive).
func (m MediaType) Param(name string) string { return m.Params[strings.ToLower(name)] }

// Format formats m as a header field value with its parameters.
func (m MediaType) Format() string { return FormatMediaType(m.String(), m.Params) }

// Disposition is a parsed Content-Disposition value (RFC 2183).
type Disposition struct {
	Type      string            // lower case: "inline", "attachment", ...
	Params    map[string]string // as MediaType.Params
	Languages map[string]string // as MediaType.Languages
	Defects   []Defect
}

// Filename returns the filename parameter, reduced to its last path element as
// RFC 2183 §2.3 asks receivers to do (no directory part is ever honoured).
func (d Disposition) Filename() string { return SafeFilename(d.Params["filename"]) }

// Format formats d as a header field value with its parameters.
func (d Disposition) Format() string { return FormatMediaType(d.Type, d.Params) }

// SafeFilename reduces a filename from a message to a name safe to create in
// a directory: the last element of any path, with control characters removed
// and "." and ".." replaced by "".
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// ParseMediaType parses a Content-Type value such as
// `text/plain; charset="utf-8"`. It is lenient: malformations seen in real mail
// are repaired and listed in Defects. The error is ErrNoMediaType when no
// type/subtype can be read; the parameters are returned even then.
func ParseMediaType(v string) (MediaType, error) {
	var p paramParser
	p.s = v
	p.skipCFWS()
	typ := strings.ToLower(p.token())
	var sub string
	p.skipCFWS()
	var err error
	if p.peek() == '/' {
		p.i++
		p.skipCFWS()
		sub = strings.ToLower(p.token())
	}
	if typ == "" || sub == "" {
		err = ErrNoMediaType
	}
	params, langs := p.params()
	return MediaType{Type: typ, Subtype: sub, Params: params, Languages: langs, Defects: p.defects}, err
}

// ParseDisposition parses a Content-Disposition value (RFC 2183), such as
// `attachment; filename="a.pdf"`. Its leniency is that of ParseMediaType. An
// empty disposition type is returned as "" with no error; RFC 2183 §2.8 says
// to treat unknown types as "attachment".
func ParseDisposition(v string) Disposition {
	var p paramParser
	p.s = v
	p.skipCFWS()
	typ := strings.ToLower(p.token())
	params, langs := p.params()
	return Disposition{Type: typ, Params: params, Languages: langs, Defects: p.defects}
}

// paramParser reads the parameter list of RFC 2045 §5.1 with the RFC 2231
// extensions, leniently.
type paramParser struct {
	s       string
	i       int
	defects []Defect
}

func (p *paramParser) defect(k DefectKind, detail string) {
	if len(p.defects) < maxDefects {
		p.defects = append(p.defects, Defect{Kind: k, Detail: detail})
	}
}

func (p *paramParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// skipCFWS skips white space and RFC 822 comments (nested parentheses).
func (p *paramParser) skipCFWS() {
	for p.i < len(p.s) {
		switch c := p.s[p.i]; c {
		case ' ', '\t', '\r', '\n':
			p.i++
		case '(':
			depth := 0
			for p.i < len(p.s) {
				c := p.s[p.i]
				p.i++
				if c == '\\' {
					p.i++
					continue
				}
				if c == '(' {
					depth++
				} else if c == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if p.i > len(p.s) {
				p.i = len(p.s)
			}
		default:
			return
		}
	}
}

// isTokenChar reports whether c may appear in an RFC 2045 token.
func isTokenChar(c byte) bool {
	return c > ' ' && c < 0x7f && !isTSpecial(c)
}

func isTSpecial(c byte) bool {
	return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

func (p *paramParser) token() string {
	start := p.i
	for p.i < len(p.s) && (isTokenChar(p.s[p.i]) || p.s[p.i] >= 0x80) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string starting at the opening quote.
func (p *paramParser) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '"':
			b.WriteString(p.s[start:p.i])
			p.i++
			return b.String()
		case '\\':
			b.WriteString(p.s[start:p.i])
			p.i++
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
			start = p.i
			continue
		case '\r', '\n':
			// Folding inside a quoted-string: unfold.
			b.WriteString(p.s[start:p.i])
			p.i++
			start = p.i
			continue
		}
		p.i++
	}
	b.WriteString(p.s[start:])
	p.defect(DefectUnterminatedQuote, p.s)
	return b.String()
}

// rawParam is one name=value as written, before RFC 2231 assembly.
type rawParam struct {
	name    string // lower case, without the RFC 2231 suffix
	section int    // -1 when not a continuation
	ext     bool   // value is extended (trailing '*'): charset'lang'%XX
	value   string
}

// params reads "; name=value" pairs to the end of the string.
func (p *paramParser) params() (map[string]string, map[string]string) {
	var raws []rawParam
	for {
		p.skipCFWS()
		if p.i >= len(p.s) {
			break
		}
		if p.s[p.i] == ';' {
			p.i++
			p.skipCFWS()
			if p.i >= len(p.s) {
				p.defect(DefectTrailingSemicolon, "")
				break
			}
			if p.s[p.i] == ';' {
				p.defect(DefectTrailingSemicolon, "empty parameter")
				continue
			}
		} else if len(raws) > 0 || p.i > 0 {
			// RFC 2231's own third example omits the semicolons.
			p.defect(DefectMissingSemicolon, "")
		}
		name := strings.ToLower(p.token())
		p.skipCFWS()
		if name == "" || p.peek() != '=' {
			// Not a parameter: skip to the next ';'.
			start := p.i
			for p.i < len(p.s) && p.s[p.i] != ';' {
				if p.s[p.i] == '"' {
					p.quoted()
					continue
				}
				p.i++
			}
			p.defect(DefectSyntax, strings.TrimSpace(name+p.s[start:p.i]))
			continue
		}
		p.i++ // '='
		p.skipCFWS()
		var value string
		if p.peek() == '"' {
			value = p.quoted()
			// Text after the closing quote up to ';' is junk.
			p.skipCFWS()
			if p.i < len(p.s) && p.s[p.i] != ';' {
				start := p.i
				for p.i < len(p.s) && p.s[p.i] != ';' {
					p.i++
				}
				// Real mail has name="a" b.pdf; keep it.
				value += strings.TrimRight(p.s[start:p.i], " \t")
				p.defect(DefectUnquotedSpecials, name)
			}
		} else {
			value = p.token()
			// Look ahead only a little: a look-ahead that is undone
			// must cost no more than a constant per parameter, or a
			// hostile list of parameters takes quadratic time.
			save, full := p.i, p.s
			if len(full)-save > maxLookahead {
				p.s = full[:save+maxLookahead]
			}
			p.skipCFWS()
			cut := len(p.s) < len(full)
			p.s = full
			if p.i < len(p.s) && (p.s[p.i] != ';' || cut && p.i >= save+maxLookahead) {
				p.i = save
			}
			if p.i < len(p.s) && p.s[p.i] != ';' {
				// Unquoted specials or spaces: take the text up to ';',
				// unless what follows looks like the next name=value
				// (missing semicolon).
				chunk := p.s[p.i:][:valueEnd(p.s[p.i:])]
				if strings.TrimSpace(chunk) != "" {
					value += strings.TrimRight(chunk, " \t\r\n")
					p.defect(DefectUnquotedSpecials, name)
				}
				p.i += len(chunk)
			}
		}
		section := -1
		ext := false
		if base, ok := strings.CutSuffix(name, "*"); ok {
			name, ext = base, true
		}
		if j := strings.LastIndexByte(name, '*'); j >= 0 {
			if n, err := strconv.Atoi(name[j+1:]); err == nil && n >= 0 && n < 1000 && (name[j+1] != '0' || len(name) == j+2) {
				name, section = name[:j], n
			}
		}
		raws = append(raws, rawParam{name: name, section: section, ext: ext, value: value})
	}
	return p.assemble(raws)
}

// maxLookahead bounds the white space and comments skipped to see whether
// a ';' follows an unquoted value.
const maxLookahead = 256

// valueEnd returns the length of the text after an unquoted value that
// still belongs to it: up to the next ';', or up to the white space before
// a "name=" that signals a missing semicolon. It looks at each byte a
// bounded number of times, so the caller's loop stays linear.
func valueEnd(s string) int {
	isWS := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for i := 0; i < len(s); {
		if s[i] == ';' {
			return i
		}
		if !isWS(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isWS(s[j]) {
			j++
		}
		k := j
		for k < len(s) && isTokenChar(s[k]) {
			k++
		}
		if k > j && k < len(s) && s[k] == '=' {
			return i
		}
		i = k // the token cannot hold ';' (a tspecial)
	}
	return len(s)
}

// assemble joins RFC 2231 continuations and decodes values.
func (p *paramParser) assemble(raws []rawParam) (map[string]string, map[string]string) {
	params := make(map[string]string, len(raws))
	var langs map[string]string
	// Which names had an RFC 2231 form: that form wins over a plain one.
	// Sections are grouped by name in one pass (no quadratic work on a
	// hostile list of parameters).
	ext := map[string][]rawParam{}
	plainSeen := map[string]bool{}
	for _, r := range raws {
		if r.section >= 0 || r.ext {
			ext[r.name] = append(ext[r.name], r)
		}
	}
	done := map[string]bool{}
	for _, r := range raws {
		if ext[r.name] == nil {
			if plainSeen[r.name] {
				p.defect(DefectDuplicateParam, r.name)
				continue
			}
			plainSeen[r.name] = true
			if r.name == "name" || r.name == "filename" {
				params[r.name] = p.maybeEncodedWord(r.name, r.value)
			} else {
				params[r.name] = r.value
			}
			continue
		}
		if done[r.name] {
			continue
		}
		done[r.name] = true
		secs := ext[r.name]
		slices.SortStableFunc(secs, func(a, b rawParam) int { return a.section - b.section })
		val, lang, ok := p.join2231(r.name, secs)
		if !ok {
			// Fall back on a plain value if one was given.
			if plainSeen[r.name] {
				continue
			}
		}
		params[r.name] = val
		if lang != "" {
			if langs == nil {
				langs = map[string]string{}
			}
			langs[r.name] = lang
		}
	}
	return params, langs
}

// join2231 assembles the sections of one RFC 2231 parameter (§3, §4, §4.1).
func (p *paramParser) join2231(name string, secs []rawParam) (value, lang string, ok bool) {
	var cs string
	var buf []byte
	want := 0
	if secs[0].section < 0 {
		// name*=charset'lang'value (no continuations); with duplicates,
		// keep the first.
		if len(secs) > 1 {
			p.defect(DefectDuplicateParam, name)
		}
		secs = secs[:1]
		want = -1
	}
	for i, s := range secs {
		if want >= 0 {
			if s.section != want {
				if s.section < want {
					p.defect(DefectDuplicateParam, name)
					continue
				}
				// RFC 2231 §3: a gap ends the value.
				p.defect(DefectContinuation, name+": missing section "+strconv.Itoa(want))
				break
			}
			want++
		}
		v := s.value
		if s.ext {
			if i == 0 {
				// charset'language'value
				if a := strings.IndexByte(v, '\''); a >= 0 {
					if b := strings.IndexByte(v[a+1:], '\''); b >= 0 {
						cs = v[:a]
						lang = v[a+1 : a+1+b]
						v = v[a+1+b+1:]
					} else {
						p.defect(DefectContinuation, name+": no language delimiter")
					}
				} else {
					p.defect(DefectContinuation, name+": no charset delimiter")
				}
			}
			buf = p.percentDecode(buf, v)
		} else {
			buf = append(buf, v...)
		}
	}
	if cs != "" && !charset.IsUTF8(cs) {
		d, err := charset.Decode(cs, buf)
		if err != nil {
			p.defect(DefectUnknownCharset, cs)
			return string(buf), lang, true
		}
		buf = d
	}
	return string(buf), lang, true
}

func (p *paramParser) percentDecode(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
				i += 2
				continue
			}
			p.defect(DefectBadPercent, s)
		}
		dst = append(dst, c)
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// maybeEncodedWord decodes RFC 2047 encoded-words in a plain parameter value.
// RFC 2047 §5 forbids them inside quoted-strings, but many mailers send
// filename="=?UTF-8?B?...?=" and every reader decodes it.
func (p *paramParser) maybeEncodedWord(name, v string) string {
	if !strings.Contains(v, "=?") || !strings.Contains(v, "?=") {
		return v
	}
	d, ok := decodeWords(v)
	if !ok {
		return v
	}
	p.defect(DefectEncodedWordParam, name)
	return d
}

// FormatMediaType formats a media type (or disposition type) and parameters
// as a header field value. Parameter names are written in sorted order, in
// lower case. Values that are tokens are written bare, other ASCII values as
// quoted-strings, and values with non-ASCII characters or longer than fits a
// line as RFC 2231 extended values in UTF-8 with continuations. Names that
// are not RFC 2231 attribute tokens (empty, or holding '*', '\” or '%') are
// left out. The result is one line, which a header writer may fold after
// "; ".
func FormatMediaType(t string, params map[string]string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(t))
	keys := make([]string, 0, len(params))
	for k := range params {
		if validAttribute(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("; ")
		formatParam(&b, strings.ToLower(k), params[k])
	}
	return b.String()
}

// validAttribute reports whether k is an RFC 2231 attribute: a token
// without '*', '\” or '%'.
func validAttribute(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !isTokenChar(c) || c == '*' || c == '\'' || c == '%' {
			return false
		}
	}
	return true
}

// maxParamChunk is the longest value section FormatMediaType writes before
// splitting into RFC 2231 continuations, so that every folded line stays
// well under 78 characters.
const maxParamChunk = 60

func formatParam(b *strings.Builder, name, v string) {
	ascii := true
	token := v != ""
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 || c < 0x20 && c != '\t' || c == 0x7f {
			ascii = false
			break
		}
		if !isTokenChar(c) {
			token = false
		}
	}
	if ascii && len(v) <= maxParamChunk {
		b.WriteString(name)
		b.WriteByte('=')
		if token {
			b.WriteString(v)
			return
		}
		writeQuoted(b, v)
		return
	}
	if ascii {
		// RFC 2231 §3: plain continuations.
		for n := 0; len(v) > 0; n++ {
			chunk := v[:min(maxParamChunk, len(v))]
			v = v[len(chunk):]
			if n > 0 {
				b.WriteString("; ")
			}
			b.WriteString(name)
			b.WriteByte('*')
			b.WriteString(strconv.Itoa(n))
			b.WriteByte('=')
			writeQuoted(b, chunk)
		}
		return
	}
	// RFC 2231 §4: extended value, UTF-8, percent-encoded, split on
	// character boundaries.
	enc := percentEncode(v)
	if len(enc)+len("utf-8''") <= maxParamChunk {
		b.WriteString(name)
		b.WriteString("*=utf-8''")
		b.WriteString(enc)
		return
	}
	for n := 0; len(v) > 0; n++ {
		// Take whole runes until the encoded chunk is full.
		var chunk strings.Builder
		if n == 0 {
			chunk.WriteString("utf-8''")
		}
		for len(v) > 0 {
			_, size := utf8.DecodeRuneInString(v)
			e := percentEncode(v[:size])
			if chunk.Len()+len(e) > maxParamChunk && chunk.Len() > 0 {
				break
			}
			chunk.WriteString(e)
			v = v[size:]
		}
		if n > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		b.WriteByte('*')
		b.WriteString(strconv.Itoa(n))
		b.WriteString("*=")
		b.WriteString(chunk.String())
	}
}

func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}

// percentEncode encodes everything but attribute-chars (RFC 2231 §7).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isTokenChar(c) && c != '*' && c != '\'' && c != '%' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
