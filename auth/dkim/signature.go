package dkim

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Canonicalization names a canonicalisation algorithm (RFC 6376 §3.4).
type Canonicalization string

// The two canonicalisation algorithms of RFC 6376 §3.4.
const (
	Simple  Canonicalization = "simple"
	Relaxed Canonicalization = "relaxed"
)

// Algorithm names a signing algorithm, the a= tag (RFC 6376 §3.3, RFC 8463
// §3).
type Algorithm string

// Signing algorithms. RSASHA1 is parsed but never signed with, and
// signatures using it fail verification (RFC 8301 §3.1).
const (
	RSASHA256     Algorithm = "rsa-sha256"
	Ed25519SHA256 Algorithm = "ed25519-sha256"
	RSASHA1       Algorithm = "rsa-sha1"
)

// keyType returns the k= key type the algorithm needs ("rsa", "ed25519").
func (a Algorithm) keyType() string {
	k, _, _ := strings.Cut(string(a), "-")
	return k
}

// hashName returns the hash part ("sha256", "sha1").
func (a Algorithm) hashName() string {
	_, h, _ := strings.Cut(string(a), "-")
	return h
}

// Signature is a parsed DKIM-Signature field (RFC 6376 §3.5).
type Signature struct {
	Version       int              // v=, always 1
	Algorithm     Algorithm        // a=
	Signature     []byte           // b=, decoded
	BodyHash      []byte           // bh=, decoded
	HeaderCanon   Canonicalization // c= before the slash (default simple)
	BodyCanon     Canonicalization // c= after the slash (default simple)
	Domain        string           // d=, the signing domain
	Headers       []string         // h=, the signed field names in order
	Identity      string           // i=, the agent or user identifier; "" when absent
	BodyLength    int64            // l=, meaningful only with HasBodyLength
	HasBodyLength bool             // l= is present
	QueryMethods  []string         // q=; nil when absent (meaning dns/txt)
	Selector      string           // s=
	Timestamp     time.Time        // t=; zero when absent
	Expiration    time.Time        // x=; zero when absent
	CopiedHeaders string           // z=, as written; "" when absent
	Extra         []Tag            // other tags, in order (ignored by verifiers, §3.2)
}

// maxBodyLength bounds l=: beyond it the value would overflow (RFC 6376
// §3.5 warns to check for overflow).
const maxBodyLength = 1<<62 - 1

// ParseSignature parses the value of a DKIM-Signature field (everything
// after the colon, folded or not) per RFC 6376 §3.5. Required tags (v, a,
// b, bh, d, h, s) must be present, v must be 1, c= must name known
// algorithms, l=, t= and x= must be decimal, and x= must not be before t=.
// It does not check semantics needing the message or the key (i= within
// d=, From in h=); Verify does. Errors are *SyntaxError.
func ParseSignature(value string) (*Signature, error) {
	const what = "DKIM-Signature"
	tags, err := parseTagList(what, value)
	if err != nil {
		return nil, err
	}
	sig := &Signature{HeaderCanon: Simple, BodyCanon: Simple}
	synErr := func(tag, msg string) error {
		return &SyntaxError{What: what, Tag: tag, Offset: tagOffset(value, tag), Msg: msg}
	}
	seen := map[string]bool{}
	for _, t := range tags {
		seen[t.Name] = true
		switch t.Name {
		case "v":
			if t.Value != "1" {
				return nil, synErr("v", "version must be 1")
			}
			sig.Version = 1
		case "a":
			a := Algorithm(strings.ToLower(t.Value))
			if a.keyType() == "" || a.hashName() == "" {
				return nil, synErr("a", "malformed algorithm "+strconv.Quote(t.Value))
			}
			sig.Algorithm = a
		case "b":
			b, err := base64.StdEncoding.DecodeString(removeWS(t.Value))
			if err != nil || len(b) == 0 {
				return nil, synErr("b", "invalid base64")
			}
			sig.Signature = b
		case "bh":
			b, err := base64.StdEncoding.DecodeString(removeWS(t.Value))
			if err != nil || len(b) == 0 {
				return nil, synErr("bh", "invalid base64")
			}
			sig.BodyHash = b
		case "c":
			h, b, slash := strings.Cut(t.Value, "/")
			sig.HeaderCanon = Canonicalization(strings.ToLower(h))
			if slash {
				sig.BodyCanon = Canonicalization(strings.ToLower(b))
			}
			if !sig.HeaderCanon.valid() || !sig.BodyCanon.valid() {
				return nil, synErr("c", "unknown canonicalization "+strconv.Quote(t.Value))
			}
		case "d":
			if t.Value == "" {
				return nil, synErr("d", "empty domain")
			}
			sig.Domain = t.Value
		case "h":
			hs := splitList(t.Value, ':')
			for _, h := range hs {
				if h == "" || !validFieldName(h) {
					return nil, synErr("h", "invalid field name "+strconv.Quote(h))
				}
			}
			if len(hs) == 0 {
				return nil, synErr("h", "no header fields")
			}
			sig.Headers = hs
		case "i":
			sig.Identity = t.Value
		case "l":
			n, ok := parseDecimal(t.Value)
			if !ok {
				return nil, synErr("l", "not a decimal number")
			}
			sig.BodyLength = n
			sig.HasBodyLength = true
		case "q":
			sig.QueryMethods = splitList(t.Value, ':')
		case "s":
			if t.Value == "" {
				return nil, synErr("s", "empty selector")
			}
			sig.Selector = t.Value
		case "t":
			n, ok := parseDecimal(t.Value)
			if !ok {
				return nil, synErr("t", "not a decimal number")
			}
			sig.Timestamp = time.Unix(n, 0).UTC()
		case "x":
			n, ok := parseDecimal(t.Value)
			if !ok {
				return nil, synErr("x", "not a decimal number")
			}
			sig.Expiration = time.Unix(n, 0).UTC()
		case "z":
			sig.CopiedHeaders = t.Value
		default:
			sig.Extra = append(sig.Extra, t)
		}
	}
	for _, req := range []string{"v", "a", "b", "bh", "d", "h", "s"} {
		if !seen[req] {
			return nil, &SyntaxError{What: what, Tag: req, Offset: len(value), Msg: "required tag missing"}
		}
	}
	if !sig.Timestamp.IsZero() && !sig.Expiration.IsZero() && sig.Expiration.Before(sig.Timestamp) {
		return nil, synErr("x", "expiration before timestamp")
	}
	return sig, nil
}

func (c Canonicalization) valid() bool { return c == Simple || c == Relaxed }

// tagOffset returns the offset of tag's name in a tag-list that is known to
// parse, for error messages.
func tagOffset(list, tag string) int {
	pos := 0
	for pos <= len(list) {
		end := strings.IndexByte(list[pos:], ';')
		if end < 0 {
			end = len(list)
		} else {
			end += pos
		}
		spec := list[pos:end]
		name, _, _ := strings.Cut(spec, "=")
		if strings.Trim(name, " \t\r\n") == tag {
			return pos + strings.Index(spec, strings.Trim(name, " \t\r\n"))
		}
		pos = end + 1
	}
	return 0
}

// parseDecimal parses an unsigned decimal of at most 18 digits (RFC 6376
// §3.5 allows up to 76 digits for l=; values that large cannot be real and
// are refused instead of overflowing).
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// validFieldName reports whether s is a field name (RFC 5322 §3.6.8:
// printable US-ASCII except colon).
func validFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ':' {
			return false
		}
	}
	return s != ""
}

// lineLimit is the line length that Format folds to (RFC 5322 §2.1.1
// recommends 78 characters at most).
const lineLimit = 78

// String returns the field as Format does with the signature included.
func (s *Signature) String() string { return string(s.Format(true)) }

// Format returns the complete DKIM-Signature field, "DKIM-Signature: "
// included, folded to lines of at most 78 characters, ending with CRLF. The
// b= tag comes last; with withB false its value is left empty, which is the
// form that is hashed (RFC 6376 §3.7) and the line end is omitted. Base64
// values are folded anywhere; other values between elements.
func (s *Signature) Format(withB bool) []byte {
	f := folder{line: len("DKIM-Signature:")}
	f.buf = append(f.buf, "DKIM-Signature:"...)
	f.tag("v", "1")
	f.tag("a", string(s.Algorithm))
	hc, bc := s.HeaderCanon, s.BodyCanon
	if hc == "" {
		hc = Simple
	}
	if bc == "" {
		bc = Simple
	}
	f.tag("c", string(hc)+"/"+string(bc))
	f.tag("d", s.Domain)
	if s.Identity != "" {
		f.tag("i", s.Identity)
	}
	f.tag("s", s.Selector)
	if s.QueryMethods != nil {
		f.tag("q", strings.Join(s.QueryMethods, ":"))
	}
	if s.HasBodyLength {
		f.tag("l", strconv.FormatInt(s.BodyLength, 10))
	}
	if !s.Timestamp.IsZero() {
		f.tag("t", strconv.FormatInt(s.Timestamp.Unix(), 10))
	}
	if !s.Expiration.IsZero() {
		f.tag("x", strconv.FormatInt(s.Expiration.Unix(), 10))
	}
	f.list("h", s.Headers)
	if s.CopiedHeaders != "" {
		f.tag("z", s.CopiedHeaders)
	}
	for _, t := range s.Extra {
		f.tag(t.Name, t.Value)
	}
	f.base64("bh", s.BodyHash, true)
	if !withB {
		f.sep()
		f.buf = append(f.buf, "b="...)
		return f.buf
	}
	f.base64("b", s.Signature, false)
	f.buf = append(f.buf, "\r\n"...)
	return f.buf
}

// folder builds a folded tag-list.
type folder struct {
	buf  []byte
	line int // length of the current line so far
}

// sep writes the space (or fold) before a tag of at least need bytes.
func (f *folder) sepFor(need int) {
	if f.line+1+need > lineLimit {
		f.buf = append(f.buf, "\r\n "...)
		f.line = 1
		return
	}
	f.buf = append(f.buf, ' ')
	f.line++
}

func (f *folder) sep() { f.sepFor(2) }

// tag writes "name=value;" on the current line, or the next if it does not
// fit. Values longer than a line are not broken (they should not occur).
func (f *folder) tag(name, value string) {
	f.sepFor(len(name) + 1 + len(value) + 1)
	f.buf = append(f.buf, name...)
	f.buf = append(f.buf, '=')
	f.buf = append(f.buf, value...)
	f.buf = append(f.buf, ';')
	f.line += len(name) + len(value) + 2
}

// list writes "name=e1:e2:...;" folding between elements (after a colon).
func (f *folder) list(name string, elems []string) {
	first := name + "="
	if len(elems) > 0 {
		first += elems[0]
	}
	f.sepFor(len(first) + 1)
	f.buf = append(f.buf, first...)
	f.line += len(first)
	for _, e := range elems[min(1, len(elems)):] {
		if f.line+1+len(e)+1 > lineLimit {
			f.buf = append(f.buf, ":\r\n "...)
			f.line = 1
		} else {
			f.buf = append(f.buf, ':')
			f.line++
		}
		f.buf = append(f.buf, e...)
		f.line += len(e)
	}
	f.buf = append(f.buf, ';')
	f.line++
}

// base64 writes "name=<base64>" breaking the value anywhere to keep lines
// within the limit, with a ';' after it when semi is set.
func (f *folder) base64(name string, data []byte, semi bool) {
	v := base64.StdEncoding.EncodeToString(data)
	f.sepFor(len(name) + 2)
	f.buf = append(f.buf, name...)
	f.buf = append(f.buf, '=')
	f.line += len(name) + 1
	for len(v) > 0 {
		room := lineLimit - f.line
		if semi && len(v) < room {
			room = len(v) // leave space for ';'
		}
		if room <= 0 {
			f.buf = append(f.buf, "\r\n "...)
			f.line = 1
			continue
		}
		n := min(room, len(v))
		if semi && n == len(v) && f.line+n+1 > lineLimit {
			n-- // keep the ';' on the line
			if n <= 0 {
				f.buf = append(f.buf, "\r\n "...)
				f.line = 1
				continue
			}
		}
		f.buf = append(f.buf, v[:n]...)
		f.line += n
		v = v[n:]
	}
	if semi {
		f.buf = append(f.buf, ';')
		f.line++
	}
}
