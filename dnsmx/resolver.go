package dnsmx

import (
	"context"
	"net"
	"net/netip"
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
}

var (
	_ Resolver = (*net.Resolver)(nil)
	_ Resolver = net.DefaultResolver
	_ Resolver = (*Cache)(nil)
)

// rooted returns name with a trailing dot.
func rooted(name string) string {
	if len(name) > 0 && name[len(name)-1] == '.' {
		return name
	}
	return name + "."
}
