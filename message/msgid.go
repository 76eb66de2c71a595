package message

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"time"
)

// MessageIDError is a Message-ID that could not be parsed.
type MessageIDError struct {
	Input string
	Msg   string
}

func (e *MessageIDError) Error() string {
	return fmt.Sprintf("message: bad message ID %q: %s", e.Input, e.Msg)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// NewMessageID returns a new globally unique msg-id (RFC 5322 §3.6.4),
// angle brackets included: the current time and 96 random bits on the left,
// the domain on the right. An empty domain means the host name (or
// "localhost" if that is unknown); RFC 5322 recommends a domain the
// generator controls.
func NewMessageID(domain string) string {
	if domain == "" {
		domain, _ = os.Hostname()
		if domain == "" || !isDotAtom(domain) {
			domain = "localhost"
		}
	}
	var b [20]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return "<" + idEncoding.EncodeToString(b[:]) + "@" + domain + ">"
}

// ParseMessageID parses one msg-id (RFC 5322 §3.6.4) and returns it without
// its angle brackets, as "left@right". It accepts CFWS around it and the
// obsolete forms of §4.5.4 (quoted or folded left parts, domains with
// spaces), and tolerates the common malformations: missing angle brackets,
// a missing "@" (as "<12345>") and white space inside.
func ParseMessageID(s string) (string, error) {
	ids, rest := scanMessageIDs(s, true)
	switch {
	case len(ids) == 0:
		return "", &MessageIDError{Input: s, Msg: "no message ID"}
	case len(ids) > 1:
		return "", &MessageIDError{Input: s, Msg: "more than one message ID"}
	case strings.TrimSpace(rest) != "":
		return "", &MessageIDError{Input: s, Msg: "unexpected text " + fmt.Sprintf("%q", strings.TrimSpace(rest))}
	}
	return ids[0], nil
}

// ParseMessageIDList parses the value of a References or In-Reply-To field:
// a list of msg-ids, perhaps with the phrases of the obsolete syntax
// (RFC 5322 §4.5.4) or commas between them, which are skipped. IDs are
// returned without angle brackets. Text that holds no ID gives an empty
// list, not an error.
func ParseMessageIDList(s string) []string {
	ids, _ := scanMessageIDs(s, false)
	return ids
}

// FormatMessageIDList formats IDs (without brackets) as a References or
// In-Reply-To value.
func FormatMessageIDList(ids []string) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('<')
		b.WriteString(id)
		b.WriteByte('>')
	}
	return b.String()
}

// scanMessageIDs finds the msg-ids in s. Bracketed IDs are taken whatever
// surrounds them; if there are none, bare words with an "@" are taken (or, if
// single, any bare word). It returns the text outside IDs and comments.
func scanMessageIDs(s string, single bool) (ids []string, rest string) {
	p := addrParser{s: s}
	var other strings.Builder
	for {
		p.skipCFWS()
		if p.end() {
			break
		}
		c := p.peek()
		if c == '<' {
			end := strings.IndexByte(p.s[p.i:], '>')
			if end < 0 {
				other.WriteString(p.s[p.i:])
				break
			}
			if id := cleanID(p.s[p.i+1 : p.i+end]); id != "" {
				ids = append(ids, id)
			}
			p.i += end + 1
			continue
		}
		if c == '"' {
			start := p.i
			if _, err := p.quotedString(); err != nil {
				other.WriteString(p.s[p.i:])
				break
			}
			other.WriteString(p.s[start:p.i])
			other.WriteByte(' ')
			continue
		}
		start := p.i
		for p.i < len(p.s) && !isWSPorNL(p.s[p.i]) && p.s[p.i] != '<' && p.s[p.i] != '(' && p.s[p.i] != ',' {
			p.i++
		}
		if p.i == start {
			p.i++ // a comma
			continue
		}
		other.WriteString(p.s[start:p.i])
		other.WriteByte(' ')
	}
	if len(ids) == 0 {
		// No brackets at all: take words that look like IDs.
		words := strings.Fields(other.String())
		other.Reset()
		for _, w := range words {
			if !strings.ContainsAny(w, "<>") && (strings.Contains(w, "@") || single && len(words) == 1) {
				ids = append(ids, cleanID(w))
			} else {
				other.WriteString(w)
				other.WriteByte(' ')
			}
		}
	}
	return ids, other.String()
}

// cleanID removes white space and comments from inside an ID, and the
// quotes of an obsolete quoted left part when what they enclose is a
// dot-atom.
func cleanID(s string) string {
	if strings.ContainsAny(s, " \t\r\n(") {
		p := addrParser{s: s}
		var b strings.Builder
		for !p.end() {
			if p.skipCFWS() {
				continue
			}
			b.WriteByte(p.peek())
			p.i++
		}
		s = b.String()
	}
	if strings.HasPrefix(s, "\"") {
		if at := strings.LastIndex(s, "\"@"); at > 0 && isDotAtom(s[1:at]) {
			s = s[1:at] + s[at+1:]
		}
	}
	return s
}
