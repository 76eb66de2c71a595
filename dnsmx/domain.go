package dnsmx

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxDomainLength is the longest domain name accepted, in octets of its
// A-label form without the trailing dot (RFC 1035 §2.3.4: 255 octets on the
// wire, which leaves 253 characters of text).
const MaxDomainLength = 253

// maxLabelLength is the longest label (RFC 1035 §2.3.4).
const maxLabelLength = 63

// idnaProfile maps for lookup as RFC 5891 §5 and UTS #46 describe. Hyphen
// placement is checked by checkLDH instead, because the UTS #46 CheckHyphens
// rule rejects real host names such as "r3--sn-abc.example" (hyphens in the
// third and fourth positions).
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.Transitional(false),
	idna.VerifyDNSLength(true),
	idna.CheckHyphens(false),
)

// Normalize returns the form of domain used for DNS queries and comparison:
// lower case, A-labels for internationalised labels (RFC 5890, RFC 5891 §5),
// no trailing dot. It rejects names that are not LDH host names (RFC 5321
// §4.1.2 Domain, RFC 1123 §2.1), too long, or address literals; see
// ParseLiteral for those.
func Normalize(domain string) (string, error) {
	if domain == "" {
		return "", invalid(domain, "empty domain")
	}
	if len(domain) > 4*MaxDomainLength {
		// Bounds the work idna does on hostile input; no valid name,
		// even in U-labels, is this long.
		return "", invalid(domain, "domain too long")
	}
	if domain[0] == '[' {
		return "", invalid(domain, "address literal is not a domain name")
	}
	if !utf8.ValidString(domain) {
		// idna would turn bad bytes into U+FFFD and encode that.
		return "", invalid(domain, "domain is not valid UTF-8")
	}
	name := strings.TrimSuffix(domain, ".")
	if isASCII(name) && !hasPunycode(name) {
		name = strings.ToLower(name)
	} else {
		var err error
		name, err = idnaProfile.ToASCII(name)
		if err != nil {
			return "", invalid(domain, err.Error())
		}
		name = strings.ToLower(name)
	}
	if err := checkLDH(name); err != nil {
		return "", invalid(domain, err.Error())
	}
	return name, nil
}

// checkLDH checks an A-label domain name without its trailing dot.
func checkLDH(name string) error {
	if name == "" {
		return fmt.Errorf("empty domain")
	}
	if len(name) > MaxDomainLength {
		return fmt.Errorf("domain longer than %d octets", MaxDomainLength)
	}
	for label := range strings.SplitSeq(name, ".") {
		switch {
		case label == "":
			return fmt.Errorf("empty label")
		case len(label) > maxLabelLength:
			return fmt.Errorf("label longer than %d octets", maxLabelLength)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("label %q has character %q", label, c)
			}
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasPunycode reports whether some label of s may be an A-label, which idna
// must decode to validate (RFC 5891 §5.4).
func hasPunycode(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
	}
	return false
}

// ParseLiteral parses an address literal, the bracketed form of an IP
// address that RFC 5321 §4.1.3 allows in place of a domain: "[192.0.2.1]"
// or "[IPv6:2001:db8::1]" (the tag is case-insensitive). General address
// literals with other tags, IPv6 zones and IPv6 addresses without the tag
// are rejected.
func ParseLiteral(s string) (netip.Addr, error) {
	if len(s) < 3 || s[0] != '[' || s[len(s)-1] != ']' {
		return netip.Addr{}, invalid(s, "address literal not in brackets")
	}
	inner := s[1 : len(s)-1]
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		a, err := netip.ParseAddr(inner[5:])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, invalid(s, "bad IPv6 address literal")
		}
		return a, nil
	}
	// RFC 5321 §4.1.3: IPv4-address-literal = Snum 3("." Snum); netip
	// rejects leading zeros, which would otherwise be read as octal by
	// some resolvers.
	a, err := netip.ParseAddr(inner)
	if err != nil || !a.Is4() {
		return netip.Addr{}, invalid(s, "bad IPv4 address literal")
	}
	return a, nil
}

// FormatLiteral returns the address literal for a: "[192.0.2.1]" or
// "[IPv6:2001:db8::1]". An IPv4-mapped IPv6 address is written as IPv4.
func FormatLiteral(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return "[" + a.String() + "]"
	}
	return "[IPv6:" + a.String() + "]"
}
