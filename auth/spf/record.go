package spf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Qualifier is the prefix of a directive that gives the result when its
// mechanism matches (RFC 7208 §4.6.2).
type Qualifier byte

// The qualifiers.
const (
	QualifierPass     Qualifier = '+'
	QualifierFail     Qualifier = '-'
	QualifierSoftFail Qualifier = '~'
	QualifierNeutral  Qualifier = '?'
)

// Result returns the result a matching mechanism with qualifier q gives.
func (q Qualifier) Result() Result {
	switch q {
	case QualifierFail:
		return Fail
	case QualifierSoftFail:
		return SoftFail
	case QualifierNeutral:
		return Neutral
	}
	return Pass
}

// Kind names a mechanism (RFC 7208 §5).
type Kind string

// The mechanisms.
const (
	KindAll     Kind = "all"
	KindInclude Kind = "include"
	KindA       Kind = "a"
	KindMX      Kind = "mx"
	KindPTR     Kind = "ptr"
	KindIP4     Kind = "ip4"
	KindIP6     Kind = "ip6"
	KindExists  Kind = "exists"
)

// Term is a mechanism (*Mechanism) or a modifier (*Modifier) of a record.
type Term interface {
	// String returns the term in canonical form.
	String() string
	// Pos returns the byte offset of the term in the record.
	Pos() int
}

// Mechanism is a directive: a qualifier and a mechanism (RFC 7208 §4.6.1,
// §5).
type Mechanism struct {
	Qualifier Qualifier
	Kind      Kind
	// Domain is the domain-spec as written, macros unexpanded; empty
	// when the mechanism has none (a, mx and ptr then use the current
	// domain; all, ip4 and ip6 never have one).
	Domain string
	// Prefix is the network of ip4 and ip6.
	Prefix netip.Prefix
	// CIDR4 and CIDR6 are the dual CIDR lengths of a and mx (RFC 7208
	// §5.6): 32 and 128 when not given.
	CIDR4, CIDR6 int
	// Offset is the byte offset of the term in the record.
	Offset int

	domain *macroString
}

// Pos implements Term.
func (m *Mechanism) Pos() int { return m.Offset }

// String returns the directive in canonical form, the qualifier "+" left
// out: "mx:example.com/24", "-all", "ip6:2001:db8::/32".
func (m *Mechanism) String() string {
	var b strings.Builder
	if m.Qualifier != QualifierPass && m.Qualifier != 0 {
		b.WriteByte(byte(m.Qualifier))
	}
	b.WriteString(string(m.Kind))
	switch m.Kind {
	case KindIP4, KindIP6:
		b.WriteByte(':')
		if m.Prefix.Bits() == m.Prefix.Addr().BitLen() {
			b.WriteString(m.Prefix.Addr().String())
		} else {
			b.WriteString(m.Prefix.String())
		}
		return b.String()
	}
	if m.Domain != "" {
		b.WriteByte(':')
		b.WriteString(m.Domain)
	}
	if m.Kind == KindA || m.Kind == KindMX {
		if m.CIDR4 != 32 {
			b.WriteString("/" + strconv.Itoa(m.CIDR4))
		}
		if m.CIDR6 != 128 {
			b.WriteString("//" + strconv.Itoa(m.CIDR6))
		}
	}
	return b.String()
}

// Modifier is a name=value term (RFC 7208 §6): redirect, exp, or one
// unknown to this package, which evaluation ignores.
type Modifier struct {
	Name   string // lower case
	Value  string // macro-string as written
	Offset int

	value *macroString
}

// Pos implements Term.
func (m *Modifier) Pos() int { return m.Offset }

// String returns "name=value".
func (m *Modifier) String() string { return m.Name + "=" + m.Value }

// Record is a parsed SPF record (RFC 7208 §4.5, §4.6.1).
type Record struct {
	// Terms are the mechanisms and modifiers in record order.
	Terms []Term

	redirect, exp *Modifier
	hasAll        bool
}

// Mechanisms returns the mechanisms of r in order.
func (r *Record) Mechanisms() []*Mechanism {
	var ms []*Mechanism
	for _, t := range r.Terms {
		if m, ok := t.(*Mechanism); ok {
			ms = append(ms, m)
		}
	}
	return ms
}

// Redirect returns the domain-spec of the redirect modifier, if any.
func (r *Record) Redirect() (string, bool) {
	if r.redirect == nil {
		return "", false
	}
	return r.redirect.Value, true
}

// Explanation returns the domain-spec of the exp modifier, if any.
func (r *Record) Explanation() (string, bool) {
	if r.exp == nil {
		return "", false
	}
	return r.exp.Value, true
}

// String returns the record in canonical form.
func (r *Record) String() string {
	var b strings.Builder
	b.WriteString("v=spf1")
	for _, t := range r.Terms {
		b.WriteByte(' ')
		b.WriteString(t.String())
	}
	return b.String()
}

// SyntaxError reports a malformed record: what is wrong and where (RFC
// 7208 §4.6: a syntax error anywhere makes check_host return permerror).
type SyntaxError struct {
	Record string // the record text
	Offset int    // byte offset in Record of the error
	Term   string // the term holding the error, if any
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	if e.Term != "" {
		return fmt.Sprintf("spf: syntax error at offset %d in term %q: %s", e.Offset, e.Term, e.Msg)
	}
	return fmt.Sprintf("spf: syntax error at offset %d: %s", e.Offset, e.Msg)
}

// version is the version section that starts every SPF record.
const version = "v=spf1"

// IsRecord reports whether txt is an SPF version 1 record: it starts with
// "v=spf1" followed by a space or nothing (RFC 7208 §4.5). Records for
// which this is false are not SPF records and are ignored.
func IsRecord(txt string) bool {
	return len(txt) >= len(version) && strings.EqualFold(txt[:len(version)], version) &&
		(len(txt) == len(version) || txt[len(version)] == ' ')
}

// ParseRecord parses an SPF record, "v=spf1" and its terms (RFC 7208
// §4.5, §4.6.1, §5, §6, §7.1). A malformed record gives a *SyntaxError.
func ParseRecord(txt string) (*Record, error) {
	if !IsRecord(txt) {
		return nil, &SyntaxError{Record: txt, Msg: `record does not start with "v=spf1"`}
	}
	r := &Record{}
	i := len(version)
	for i < len(txt) {
		if txt[i] == ' ' {
			i++
			continue
		}
		end := strings.IndexByte(txt[i:], ' ')
		if end < 0 {
			end = len(txt)
		} else {
			end += i
		}
		term := txt[i:end]
		t, off, msg := parseTerm(term, i)
		if msg != "" {
			return nil, &SyntaxError{Record: txt, Offset: i + off, Term: term, Msg: msg}
		}
		switch t := t.(type) {
		case *Mechanism:
			if t.Kind == KindAll {
				r.hasAll = true
			}
		case *Modifier:
			// RFC 7208 §6: redirect and exp appear at most once.
			switch t.Name {
			case "redirect":
				if r.redirect != nil {
					return nil, &SyntaxError{Record: txt, Offset: i, Term: term, Msg: "second redirect modifier"}
				}
				r.redirect = t
			case "exp":
				if r.exp != nil {
					return nil, &SyntaxError{Record: txt, Offset: i, Term: term, Msg: "second exp modifier"}
				}
				r.exp = t
			}
		}
		r.Terms = append(r.Terms, t)
		i = end
	}
	return r, nil
}

// parseTerm parses one term found at offset pos; on error it returns the
// offset of the error within term and a message.
func parseTerm(term string, pos int) (Term, int, string) {
	// RFC 7208 §4.6.1: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
	// followed by "=" makes a modifier.
	if n := modifierName(term); n > 0 && n < len(term) && term[n] == '=' {
		return parseModifier(term, n, pos)
	}
	m := &Mechanism{Qualifier: QualifierPass, Offset: pos, CIDR4: 32, CIDR6: 128}
	i := 0
	switch Qualifier(term[0]) {
	case QualifierPass, QualifierFail, QualifierSoftFail, QualifierNeutral:
		m.Qualifier = Qualifier(term[0])
		i = 1
	}
	start := i
	for i < len(term) && isAlnum(term[i]) {
		i++
	}
	name := strings.ToLower(term[start:i])
	rest := term[i:]
	if i < len(term) && term[i] != ':' && term[i] != '/' {
		return nil, i, "invalid character " + strconv.QuoteRune(rune(term[i])) + " in mechanism"
	}
	m.Kind = Kind(name)
	switch m.Kind {
	case KindAll:
		if rest != "" {
			return nil, i, "all takes no argument"
		}
	case KindInclude, KindExists:
		if !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return nil, i, string(m.Kind) + " needs a domain-spec"
		}
		ms, off, msg := parseDomainSpec(rest[1:])
		if msg != "" {
			return nil, i + 1 + off, msg
		}
		m.Domain, m.domain = rest[1:], ms
	case KindA, KindMX, KindPTR:
		spec, cidr := rest, ""
		if m.Kind != KindPTR {
			k := cidrSuffix(rest)
			spec, cidr = rest[:k], rest[k:]
		}
		if spec != "" {
			if spec[0] != ':' {
				return nil, i, "invalid character " + strconv.QuoteRune(rune(spec[0])) + " after " + name
			}
			if len(spec) == 1 {
				return nil, i + 1, string(m.Kind) + ": empty domain-spec"
			}
			ms, off, msg := parseDomainSpec(spec[1:])
			if msg != "" {
				return nil, i + 1 + off, msg
			}
			m.Domain, m.domain = spec[1:], ms
		}
		if cidr != "" {
			c4, c6, msg := parseDualCIDR(cidr)
			if msg != "" {
				return nil, len(term) - len(cidr), msg
			}
			m.CIDR4, m.CIDR6 = c4, c6
		}
	case KindIP4, KindIP6:
		if !strings.HasPrefix(rest, ":") {
			return nil, i, string(m.Kind) + " needs a network"
		}
		p, msg := parseNetwork(rest[1:], m.Kind == KindIP6)
		if msg != "" {
			return nil, i + 1, msg
		}
		m.Prefix = p
	default:
		if name == "" {
			return nil, start, "missing mechanism name"
		}
		return nil, start, "unknown mechanism " + strconv.Quote(name)
	}
	return m, 0, ""
}

func parseModifier(term string, n, pos int) (Term, int, string) {
	m := &Modifier{Name: strings.ToLower(term[:n]), Value: term[n+1:], Offset: pos}
	switch m.Name {
	case "redirect", "exp":
		if m.Value == "" {
			return nil, n + 1, m.Name + " needs a domain-spec"
		}
		ms, off, msg := parseDomainSpec(m.Value)
		if msg != "" {
			return nil, n + 1 + off, msg
		}
		m.value = ms
	default:
		// RFC 7208 §4.6.1: unknown-modifier = name "=" macro-string.
		ms, off, msg := parseMacro(m.Value, modMacro)
		if msg != "" {
			return nil, n + 1 + off, msg
		}
		m.value = ms
	}
	return m, 0, ""
}

// modifierName returns the length of the modifier name at the start of
// term, or 0.
func modifierName(term string) int {
	if term == "" || !isAlpha(term[0]) {
		return 0
	}
	i := 1
	for i < len(term) && (isAlnum(term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.') {
		i++
	}
	return i
}

// parseDomainSpec parses a domain-spec (RFC 7208 §7.1): a macro-string
// ending in a macro-expand or in "." toplabel [ "." ].
func parseDomainSpec(s string) (*macroString, int, string) {
	ms, off, msg := parseMacro(s, domainMacro)
	if msg != "" {
		return nil, off, msg
	}
	if ms.endsWithExpand() {
		return ms, 0, ""
	}
	tail := s
	if k := strings.LastIndexByte(s, '}'); k >= 0 {
		tail = s[k+1:]
	}
	t := strings.TrimSuffix(tail, ".")
	dot := strings.LastIndexByte(t, '.')
	if dot < 0 || !isTopLabel(t[dot+1:]) {
		return nil, len(s) - len(tail), "domain-spec does not end in a top-level label or a macro"
	}
	return ms, 0, ""
}

// isTopLabel reports whether s is a toplabel (RFC 7208 §7.1):
// ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
func isTopLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	alpha, hyphen := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlpha(c):
			alpha = true
		case c >= '0' && c <= '9':
		case c == '-':
			hyphen = true
		default:
			return false
		}
	}
	if !hyphen {
		return alpha
	}
	return s[0] != '-' && s[len(s)-1] != '-'
}

// cidrSuffix returns the index in s where the dual-cidr-length that
// ends it starts ("/24", "//64", "/24//64"), or len(s). A '/' followed by
// anything but digits is part of the domain-spec, which may hold any
// visible character (RFC 7208 §7.1).
func cidrSuffix(s string) int {
	end := len(s)
	digitsBefore := func(end int) int { // start of the digits ending at end
		i := end
		for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
			i--
		}
		return i
	}
	if d := digitsBefore(end); d < end && d >= 2 && s[d-2:d] == "//" {
		end = d - 2
	}
	if d := digitsBefore(end); d < end && d >= 1 && s[d-1] == '/' && (d < 2 || s[d-2] != '/') {
		end = d - 1
	}
	return end
}

// parseDualCIDR parses dual-cidr-length = [ ip4-cidr-length ] [ "/"
// ip6-cidr-length ] (RFC 7208 §5.6).
func parseDualCIDR(s string) (int, int, string) {
	c4, c6 := 32, 128
	if !strings.HasPrefix(s, "//") {
		rest := s[1:]
		k := strings.IndexByte(rest, '/')
		num := rest
		if k >= 0 {
			num, rest = rest[:k], rest[k:]
		} else {
			rest = ""
		}
		n, ok := parseCIDRLength(num, 32)
		if !ok {
			return 0, 0, "invalid ip4-cidr-length " + strconv.Quote("/"+num)
		}
		c4, s = n, rest
		if s == "" {
			return c4, c6, ""
		}
		if !strings.HasPrefix(s, "//") {
			return 0, 0, "invalid dual-cidr-length"
		}
	}
	n, ok := parseCIDRLength(s[2:], 128)
	if !ok {
		return 0, 0, "invalid ip6-cidr-length " + strconv.Quote(s[1:])
	}
	return c4, n, ""
}

// parseCIDRLength parses "0" / %x31-39 *DIGIT, at most limit.
func parseCIDRLength(s string, limit int) (int, bool) {
	if s == "" || len(s) > 3 || s[0] == '0' && len(s) > 1 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n <= limit
}

// parseNetwork parses ip4-network [ ip4-cidr-length ] or ip6-network [
// ip6-cidr-length ] (RFC 7208 §5.6).
func parseNetwork(s string, v6 bool) (netip.Prefix, string) {
	addr, cidr, hasCIDR := strings.Cut(s, "/")
	var a netip.Addr
	if v6 {
		var err error
		a, err = netip.ParseAddr(addr)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Prefix{}, "invalid ip6-network " + strconv.Quote(addr)
		}
	} else {
		var ok bool
		a, ok = parseIP4(addr)
		if !ok {
			return netip.Prefix{}, "invalid ip4-network " + strconv.Quote(addr)
		}
	}
	bits := a.BitLen()
	if hasCIDR {
		n, ok := parseCIDRLength(cidr, bits)
		if !ok {
			return netip.Prefix{}, "invalid CIDR length " + strconv.Quote("/"+cidr)
		}
		bits = n
	}
	return netip.PrefixFrom(a, bits), ""
}

// parseIP4 parses ip4-network = qnum "." qnum "." qnum "." qnum, where a
// qnum is 0-255 without leading zeros.
func parseIP4(s string) (netip.Addr, bool) {
	var b [4]byte
	for i := range 4 {
		j := 0
		for j < len(s) && j < 4 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || j > 3 || j > 1 && s[0] == '0' {
			return netip.Addr{}, false
		}
		n, _ := strconv.Atoi(s[:j])
		if n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
		s = s[j:]
		if i < 3 {
			if s == "" || s[0] != '.' {
				return netip.Addr{}, false
			}
			s = s[1:]
		}
	}
	return netip.AddrFrom4(b), s == ""
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }
