package dkim

import (
	"strings"
)

// Tag is one tag=value pair of a tag-list (RFC 6376 §3.2). Value has the
// white space around it removed; white space inside it (folding included)
// is kept as it was.
type Tag struct {
	Name  string
	Value string
}

// ParseTagList parses a tag-list (RFC 6376 §3.2): tag=value pairs separated
// by semicolons, with optional folding white space around names, equals
// signs and values, and an optional final semicolon. Tag names are
// case-sensitive; a name occurring twice makes the whole list invalid. Errors
// are *SyntaxError with the offset of the problem.
func ParseTagList(s string) ([]Tag, error) {
	return parseTagList("tag-list", s)
}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func parseTagList(what, s string) ([]Tag, error) {
	var tags []Tag
	pos := 0
	for pos <= len(s) {
		end := strings.IndexByte(s[pos:], ';')
		if end < 0 {
			end = len(s)
		} else {
			end += pos
		}
		spec := s[pos:end]
		// Offsets within spec, skipping leading white space.
		i := 0
		for i < len(spec) && isWS(spec[i]) {
			i++
		}
		if i == len(spec) {
			if end == len(s) && len(tags) > 0 {
				break // "; " at the end
			}
			if end == len(s) && len(tags) == 0 && pos == 0 {
				return nil, &SyntaxError{What: what, Offset: pos + i, Msg: "empty tag-list"}
			}
			return nil, &SyntaxError{What: what, Offset: pos + i, Msg: "empty tag-spec"}
		}
		nameStart := i
		if !isAlpha(spec[i]) {
			return nil, &SyntaxError{What: what, Offset: pos + i, Msg: "tag name must start with a letter"}
		}
		for i < len(spec) && (isAlpha(spec[i]) || isDigit(spec[i]) || spec[i] == '_') {
			i++
		}
		name := spec[nameStart:i]
		for i < len(spec) && isWS(spec[i]) {
			i++
		}
		if i == len(spec) || spec[i] != '=' {
			return nil, &SyntaxError{What: what, Tag: name, Offset: pos + i, Msg: "expected '=' after tag name"}
		}
		i++
		vstart, vend := i, len(spec)
		for vstart < vend && isWS(spec[vstart]) {
			vstart++
		}
		for vend > vstart && isWS(spec[vend-1]) {
			vend--
		}
		value := spec[vstart:vend]
		for j := 0; j < len(value); j++ {
			c := value[j]
			if c < 0x21 && !isWS(c) || c == 0x7f {
				return nil, &SyntaxError{What: what, Tag: name, Offset: pos + vstart + j, Msg: "control character in tag value"}
			}
		}
		for _, t := range tags {
			if t.Name == name {
				return nil, &SyntaxError{What: what, Tag: name, Offset: pos + nameStart, Msg: "duplicate tag"}
			}
		}
		tags = append(tags, Tag{Name: name, Value: value})
		pos = end + 1
	}
	return tags, nil
}

// removeWS returns s without any white space (for base64 values, which
// may be folded anywhere, RFC 6376 §3.5 b= and bh=).
func removeWS(s string) string {
	if strings.IndexAny(s, " \t\r\n") < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isWS(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// splitColon splits a colon-separated list (h=, q=, the key record's
// h=, s= and t=), trimming white space around each element.
func splitList(s string, sep byte) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, string(sep))
	for i, p := range parts {
		parts[i] = strings.Trim(p, " \t\r\n")
	}
	return parts
}

// stripBValue returns the tag-list in raw (a DKIM-Signature field, name
// and colon included) with the value of its b= tag removed, white space
// around the value included, as the hash of RFC 6376 §3.7 requires. Only
// the b= tag's value is removed: its name, the '=', and any ';' after it
// remain.
func stripBValue(raw []byte) []byte {
	colon := -1
	for i, c := range raw {
		if c == ':' {
			colon = i
			break
		}
	}
	out := make([]byte, 0, len(raw))
	out = append(out, raw[:colon+1]...)
	pos := colon + 1
	for pos <= len(raw) {
		end := pos
		for end < len(raw) && raw[end] != ';' {
			end++
		}
		spec := raw[pos:end]
		eq := -1
		for i, c := range spec {
			if c == '=' {
				eq = i
				break
			}
		}
		if eq >= 0 && string(trimWSBytes(spec[:eq])) == "b" {
			out = append(out, spec[:eq+1]...)
			// Keep the line end of a field that ends with b=.
			if end == len(raw) {
				out = append(out, trailingLineEnd(spec[eq+1:])...)
			}
		} else {
			out = append(out, spec...)
		}
		if end < len(raw) {
			out = append(out, ';')
		}
		pos = end + 1
	}
	return out
}

// trailingLineEnd returns the CRLF or LF that ends b, if any.
func trailingLineEnd(b []byte) []byte {
	n := len(b)
	if n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		return b[n-2:]
	}
	if n >= 1 && b[n-1] == '\n' {
		return b[n-1:]
	}
	return nil
}

func trimWSBytes(b []byte) []byte {
	for len(b) > 0 && isWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
