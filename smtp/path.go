package smtp

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Limits of RFC 5321 §4.5.3.1.
const (
	// MaxLocalPartLength: RFC 5321 §4.5.3.1.1, 64 octets.
	MaxLocalPartLength = 64
	// MaxDomainLength: RFC 5321 §4.5.3.1.2, 255 octets.
	MaxDomainLength = 255
	// MaxPathLength: RFC 5321 §4.5.3.1.3, 256 octets including the brackets.
	MaxPathLength = 256
)

// Mailbox is an SMTP mailbox, local-part@domain (RFC 5321 §4.1.2).
//
// The zero Mailbox is the null reverse-path "<>" (RFC 5321 §4.5.5), used as the
// sender of bounces. A Mailbox with a Local part and no Domain is the special
// recipient "<Postmaster>" (RFC 5321 §4.1.1.3).
type Mailbox struct {
	// Local is the local part with any quoting removed: for "\"a b\"@x" it is
	// `a b`. It is case-sensitive (RFC 5321 §2.4).
	Local string
	// Domain is a domain name, or an address literal with its brackets, such as
	// "[192.0.2.1]" or "[IPv6:2001:db8::1]".
	Domain string
}

// IsNull reports whether m is the null path "<>".
func (m Mailbox) IsNull() bool { return m.Local == "" && m.Domain == "" }

func (m Mailbox) hasNonASCII() bool { return hasNonASCII(m.Local) || hasNonASCII(m.Domain) }

// MustParseMailbox is ParseMailbox, with SMTPUTF8 addresses allowed, for
// addresses known to be valid (constants, tests); it panics on an error.
// A leading "<" parses a path, so "<>" gives the null reverse-path.
func MustParseMailbox(s string) Mailbox {
	m, err := parseClientAddr(s, true)
	if err != nil {
		panic(err)
	}
	return m
}

// String returns the mailbox as it appears between the angle brackets of a path,
// quoting the local part when it is not a Dot-string. The null path is "".
func (m Mailbox) String() string {
	if m.IsNull() {
		return ""
	}
	local := m.Local
	if !isDotString(local, true) {
		local = quoteLocal(local)
	}
	if m.Domain == "" {
		return local
	}
	return local + "@" + m.Domain
}

// Path returns the mailbox in angle brackets, "<>" for the null path.
func (m Mailbox) Path() string { return "<" + m.String() + ">" }

// ErrPathSyntax is wrapped by the errors of the path parsers.
var ErrPathSyntax = errors.New("smtp: malformed path")

func pathError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrPathSyntax}, args...)...)
}

// ParseMailbox parses "local@domain" (RFC 5321 §4.1.2 Mailbox). Non-ASCII
// characters are accepted only when utf8 is true, as after SMTPUTF8 (RFC 6531
// §3.3). A bare "postmaster" (any case) is accepted as the special recipient.
func ParseMailbox(s string, utf8 bool) (Mailbox, error) {
	if s == "" {
		return Mailbox{}, pathError("empty mailbox")
	}
	local, rest, err := parseLocalPart(s, utf8)
	if err != nil {
		return Mailbox{}, err
	}
	if rest == "" {
		// RFC 5321 §4.1.1.3: "<Postmaster>" without a domain.
		if strings.EqualFold(local, "postmaster") && s == local {
			return Mailbox{Local: local}, nil
		}
		return Mailbox{}, pathError("%q has no domain", s)
	}
	if rest[0] != '@' {
		return Mailbox{}, pathError("unexpected %q after the local part", rest[0])
	}
	domain := rest[1:]
	if err := checkDomainOrLiteral(domain, utf8); err != nil {
		return Mailbox{}, err
	}
	return Mailbox{Local: local, Domain: domain}, nil
}

// ParsePath parses a Reverse-path or Forward-path in angle brackets (RFC 5321
// §4.1.2), such as "<a@b.example>" or "<>". A source route
// ("<@relay.example:a@b.example>") is accepted and ignored (RFC 5321 §4.1.1.3,
// Appendix C). The null path "<>" yields the zero Mailbox; callers refuse it
// where only a Forward-path is allowed.
func ParsePath(s string, utf8 bool) (Mailbox, error) {
	if len(s) > MaxPathLength {
		return Mailbox{}, pathError("path longer than %d octets", MaxPathLength)
	}
	if len(s) < 2 || s[0] != '<' || s[len(s)-1] != '>' {
		return Mailbox{}, pathError("%q is not in angle brackets", s)
	}
	inner := s[1 : len(s)-1]
	if inner == "" {
		return Mailbox{}, nil
	}
	if inner[0] == '@' {
		// A-d-l = At-domain *( "," At-domain ) ":"
		route, rest, ok := strings.Cut(inner, ":")
		if !ok {
			return Mailbox{}, pathError("source route without ':'")
		}
		for _, hop := range strings.Split(route, ",") {
			if len(hop) < 2 || hop[0] != '@' {
				return Mailbox{}, pathError("malformed source route %q", route)
			}
			if err := checkDomain(hop[1:], utf8); err != nil {
				return Mailbox{}, err
			}
		}
		inner = rest
	}
	return ParseMailbox(inner, utf8)
}

// splitPath splits the argument of MAIL FROM: or RCPT TO: into the path and
// the parameters that follow it. It tolerates a space before the path and a
// path without angle brackets (which it returns bracketed).
func splitPath(arg string) (path, params string, err error) {
	arg = strings.TrimLeft(arg, " ")
	if arg == "" {
		return "", "", pathError("missing path")
	}
	if arg[0] != '<' {
		// Lenient: "MAIL FROM:a@b" as some old clients send.
		p, rest, _ := strings.Cut(arg, " ")
		return "<" + p + ">", strings.TrimLeft(rest, " "), nil
	}
	inQuote, esc := false, false
	for i := 1; i < len(arg); i++ {
		c := arg[i]
		switch {
		case esc:
			esc = false
		case inQuote && c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == '>':
			rest := arg[i+1:]
			if rest != "" && rest[0] != ' ' {
				return "", "", pathError("no space after the path")
			}
			return arg[:i+1], strings.TrimLeft(rest, " "), nil
		}
	}
	return "", "", pathError("unterminated path")
}

// parseLocalPart reads a Dot-string or Quoted-string from the front of s.
func parseLocalPart(s string, utf8ok bool) (local, rest string, err error) {
	if s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				// quoted-pairSMTP = %d92 %d32-126
				if i+1 >= len(s) || s[i+1] < 32 || s[i+1] > 126 {
					return "", "", pathError("bad quoted pair in local part")
				}
				i++
				b.WriteByte(s[i])
			case c == '"':
				local = b.String()
				if len(local) > MaxLocalPartLength {
					return "", "", pathError("local part longer than %d octets", MaxLocalPartLength)
				}
				return local, s[i+1:], nil
			case c >= 32 && c <= 126:
				// qtextSMTP = %d32-33 / %d35-91 / %d93-126
				b.WriteByte(c)
			case c >= 0x80 && utf8ok:
				b.WriteByte(c)
			default:
				return "", "", pathError("bad character %q in quoted local part", c)
			}
		}
		return "", "", pathError("unterminated quoted local part")
	}
	i := strings.IndexByte(s, '@')
	if i < 0 {
		i = len(s)
	}
	local = s[:i]
	if len(local) > MaxLocalPartLength {
		return "", "", pathError("local part longer than %d octets", MaxLocalPartLength)
	}
	if !isDotString(local, utf8ok) {
		return "", "", pathError("malformed local part %q", local)
	}
	return local, s[i:], nil
}

// isAtext reports whether c is an RFC 5322 atext character (ASCII part).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// isDotString reports whether s is Atom *("." Atom); non-ASCII bytes count as
// atext when utf8 is set (RFC 6531 §3.3).
func isDotString(s string, utf8ok bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	prevDot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case isAtext(c):
		case c >= 0x80 && utf8ok:
		default:
			return false
		}
		prevDot = false
	}
	return !utf8ok || utf8.ValidString(s)
}

// quoteLocal returns local as an RFC 5321 Quoted-string.
func quoteLocal(local string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

func checkDomainOrLiteral(d string, utf8ok bool) error {
	if d != "" && d[0] == '[' {
		return checkAddressLiteral(d)
	}
	return checkDomain(d, utf8ok)
}

// checkDomain checks Domain = sub-domain *("." sub-domain) (RFC 5321 §4.1.2),
// with U-labels allowed under SMTPUTF8 (RFC 6531 §3.3). Underscores are
// tolerated, as they occur in real host names.
func checkDomain(d string, utf8ok bool) error {
	if d == "" {
		return pathError("empty domain")
	}
	if len(d) > MaxDomainLength {
		return pathError("domain longer than %d octets", MaxDomainLength)
	}
	if utf8ok && !utf8.ValidString(d) {
		return pathError("domain is not valid UTF-8")
	}
	for rest := d; ; {
		// Labels one by one, without allocating a slice of them.
		label, after, more := strings.Cut(rest, ".")
		rest = after
		if label == "" || len(label) > 63 {
			return pathError("malformed domain %q", d)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return pathError("malformed domain %q", d)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 0x80 && utf8ok:
			default:
				return pathError("bad character %q in domain", c)
			}
		}
		if !more {
			return nil
		}
	}
}

// checkAddressLiteral checks "[" IPv4 / "IPv6:" IPv6 / General "]" (RFC 5321 §4.1.3).
func checkAddressLiteral(d string) error {
	if len(d) < 3 || d[len(d)-1] != ']' {
		return pathError("malformed address literal %q", d)
	}
	in := d[1 : len(d)-1]
	if len(in) >= 5 && strings.EqualFold(in[:5], "IPv6:") {
		a, err := netip.ParseAddr(in[5:])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return pathError("malformed IPv6 address literal %q", d)
		}
		return nil
	}
	if tag, content, ok := strings.Cut(in, ":"); ok {
		// General-address-literal = Standardized-tag ":" 1*dcontent
		if tag == "" || content == "" || checkDomain(tag, false) != nil {
			return pathError("malformed address literal %q", d)
		}
		for i := 0; i < len(content); i++ {
			c := content[i]
			if c < 33 || c > 126 || c == '[' || c == '\\' || c == ']' {
				return pathError("malformed address literal %q", d)
			}
		}
		return nil
	}
	a, err := netip.ParseAddr(in)
	if err != nil || !a.Is4() {
		return pathError("malformed IPv4 address literal %q", d)
	}
	return nil
}

// hasNonASCII reports whether s has a byte above 0x7f.
func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}
