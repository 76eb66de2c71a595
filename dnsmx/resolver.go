package dnsmx

import (
	"context"
	"net"
	"net/netip"
	"strconv"
)

// Resolver is the part of *net.Resolver that mail delivery needs. Both
// net.DefaultResolver and a &net.Resolver{PreferGo: true, Dial: ...} pointed
// at a chosen server satisfy it, and so does *Cache.
//
// Names passed by this package end in a dot, so resolvers that apply a search
// list (resolv.conf "search", "ndots") do not append local suffixes: RFC 5321
// §5.1 forbids a relay to infer fully-qualified names from partial ones.
type Resolver interface {
	// LookupMX returns the MX records of name. An error for which
	// (*net.DNSError).IsNotFound is true means the name has no MX records or
	// does not exist.
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	// LookupNetIP returns the addresses of host; network is "ip", "ip4" or
	// "ip6".
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	// LookupTXT returns the TXT records of name, each record's strings
	// concatenated.
	LookupTXT(ctx context.Context, name string) ([]string, error)
	// LookupAddr returns the names that the PTR records of addr, an IPv4
	// or IPv6 address in text form, point to (the reverse mapping under
	// in-addr.arpa or ip6.arpa). SPF's "ptr" mechanism and %{p} macro
	// need it (RFC 7208 §5.5).
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

var (
	_ Resolver = (*net.Resolver)(nil)
	_ Resolver = net.DefaultResolver
	_ Resolver = (*Cache)(nil)
)

// reverseName returns the name under in-addr.arpa or ip6.arpa whose PTR
// records map addr back to names (RFC 1035 §3.5, RFC 3596 §2.5).
func reverseName(addr string) (string, bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	a = a.Unmap()
	const hex = "0123456789abcdef"
	var b []byte
	if a.Is4() {
		ip := a.As4()
		for i := 3; i >= 0; i-- {
			b = strconv.AppendUint(b, uint64(ip[i]), 10)
			b = append(b, '.')
		}
		return string(b) + "in-addr.arpa.", true
	}
	ip := a.As16()
	for i := 15; i >= 0; i-- {
		b = append(b, hex[ip[i]&0xf], '.', hex[ip[i]>>4], '.')
	}
	return string(b) + "ip6.arpa.", true
}

// rooted returns name with a trailing dot.
func rooted(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		return name
	}
	return name + "."
}
