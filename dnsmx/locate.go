package dnsmx

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Default limits of a Locator.
const (
	// DefaultMaxHosts is the default number of mail exchangers returned
	// and resolved. RFC 5321 §5.1 allows a configurable limit on the
	// alternatives tried, and asks that at least two addresses be tried.
	DefaultMaxHosts = 10
	// DefaultMaxAddrs is the default number of addresses returned over all
	// hosts.
	DefaultMaxAddrs = 20
)

// Family says which IP address families to return and in what order.
// RFC 5321 §5.2 leaves the choice to local circumstances.
type Family int

const (
	// PreferIPv6 returns each host's IPv6 addresses before its IPv4
	// addresses, keeping the resolver's order within a family (the order
	// RFC 6724 gives on a dual-stack host). The default.
	PreferIPv6 Family = iota
	// PreferIPv4 returns each host's IPv4 addresses first.
	PreferIPv4
	// IPv6Only returns only IPv6 addresses and queries only AAAA records.
	IPv6Only
	// IPv4Only returns only IPv4 addresses and queries only A records.
	IPv4Only
)

func (f Family) network() string {
	switch f {
	case IPv6Only:
		return "ip6"
	case IPv4Only:
		return "ip4"
	}
	return "ip"
}

// allows reports whether f admits a.
func (f Family) allows(a netip.Addr) bool {
	switch f {
	case IPv6Only:
		return a.Is6()
	case IPv4Only:
		return a.Is4()
	}
	return true
}

// Host is one mail exchanger to try, with its addresses in the order to try
// them.
type Host struct {
	// Name is the exchanger's domain name in A-label form without a
	// trailing dot, or for an address literal its literal form
	// ("[192.0.2.1]").
	Name string
	// Pref is the MX preference; 0 for an implicit MX or a literal.
	Pref uint16
	// Implicit is set when the domain has no MX records and Name is the
	// domain itself (RFC 5321 §5.1 "implicit MX").
	Implicit bool
	// Literal is set for an address literal, which bypasses DNS.
	Literal bool
	// Addrs are the addresses to try, in order; never empty.
	Addrs []netip.Addr
}

// Locator finds the mail exchangers for a domain as RFC 5321 §5.1 says:
// MX records sorted by preference with equal preferences shuffled, the
// implicit MX when there are none, null MX (RFC 7505), exchangers of equal or
// worse preference than the local host discarded. The zero Locator uses
// net.DefaultResolver and the default limits. A Locator is safe for
// concurrent use if its fields are not changed.
type Locator struct {
	// Resolver answers the queries; nil means net.DefaultResolver. Wrap
	// it in a *Cache to cache answers.
	Resolver Resolver

	// Family selects the address families and their order.
	Family Family

	// LocalNames are the names by which this host is known in mail
	// transactions, and LocalAddrs its addresses. RFC 5321 §5.1: when a
	// relay finds one of them among the MX records, it discards that
	// record and all records of equal or worse preference. If none are
	// left, Locate reports ErrLoop.
	LocalNames []string
	LocalAddrs []netip.Addr

	// MaxHosts bounds the number of hosts resolved and returned (0 or
	// less means DefaultMaxHosts); MaxAddrs bounds the number of addresses
	// returned over all hosts (0 or less means DefaultMaxAddrs). The best
	// hosts are kept.
	MaxHosts int
	MaxAddrs int

	// Rand returns a pseudo-random int in [0, n), used to shuffle MX
	// records of equal preference (RFC 5321 §5.1 "MUST randomize them").
	// Nil means math/rand/v2.IntN. Tests set it for repeatable orders.
	Rand func(n int) int
}

// Locate finds the mail exchangers for domain with a zero Locator.
func Locate(ctx context.Context, domain string) ([]Host, error) {
	var l Locator
	return l.Locate(ctx, domain)
}

// Locate returns the hosts to try for mail to domain, best first, each with
// at least one address. The domain may be internationalised (it is
// converted to A-labels) or an address literal such as "[192.0.2.1]" or
// "[IPv6:2001:db8::1]", which is returned as is without a DNS query.
//
// Errors are *Error values wrapping one of the sentinels ErrInvalidDomain,
// ErrNoSuchDomain, ErrNullMX, ErrNoAddress, ErrLoop or ErrLookup; their
// Temporary method tells a queue whether to retry or bounce.
//
// Hosts whose address lookup fails are left out as long as another host
// remains. The implicit MX is used only when the MX query reports that
// there are no records; a failed MX query (SERVFAIL, timeout) is an
// ErrLookup error, never a reason to fall back to address records.
func (l *Locator) Locate(ctx context.Context, domain string) ([]Host, error) {
	if strings.HasPrefix(domain, "[") {
		return l.literal(domain)
	}
	name, err := Normalize(domain)
	if err != nil {
		return nil, err
	}
	hosts, err := l.exchangers(ctx, domain, name)
	if err != nil {
		return nil, err
	}
	hosts, err = l.pruneNames(domain, hosts)
	if err != nil {
		return nil, err
	}
	if max := limit(l.MaxHosts, DefaultMaxHosts); len(hosts) > max {
		hosts = hosts[:max]
	}
	return l.resolve(ctx, domain, hosts)
}

// limit returns n, or def if n is not positive.
func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func (l *Locator) resolver() Resolver {
	if l.Resolver == nil {
		return net.DefaultResolver
	}
	return l.Resolver
}

func (l *Locator) literal(domain string) ([]Host, error) {
	a, err := ParseLiteral(domain)
	if err != nil {
		return nil, err
	}
	a = a.Unmap()
	if !l.Family.allows(a) {
		return nil, permanent(domain, ErrNoAddress, errors.New("address family not enabled"))
	}
	if l.isLocal(a) {
		return nil, permanent(domain, ErrLoop, nil)
	}
	return []Host{{Name: FormatLiteral(a), Literal: true, Addrs: []netip.Addr{a}}}, nil
}

// exchangers returns the MX hosts of name sorted by preference, or the
// implicit MX.
func (l *Locator) exchangers(ctx context.Context, domain, name string) ([]Host, error) {
	mxs, err := l.resolver().LookupMX(ctx, rooted(name))
	if err != nil && len(mxs) == 0 {
		if isNotFound(err) {
			// RFC 5321 §5.1: "If an empty list of MXs is returned,
			// the address is treated as if it was associated with an
			// implicit MX RR, with a preference of 0, pointing to
			// that host." NXDOMAIN also lands here, and the address
			// lookup then reports ErrNoSuchDomain.
			return []Host{{Name: name, Implicit: true}}, nil
		}
		return nil, temporary(domain, ErrLookup, err)
	}
	// Go returns the valid records with an error when some records
	// were malformed; the valid ones are still usable.
	if len(mxs) == 0 {
		// An empty answer without an error: treat as no records.
		return []Host{{Name: name, Implicit: true}}, nil
	}
	// RFC 7505 §3: a single MX with preference 0 and the root as
	// exchange. Any preference is accepted here: "." can never be a host.
	if len(mxs) == 1 && isRoot(mxs[0].Host) {
		return nil, permanent(domain, ErrNullMX, nil)
	}
	hosts := make([]Host, 0, len(mxs))
	for _, mx := range mxs {
		if mx == nil || isRoot(mx.Host) {
			// RFC 7505 §3 forbids a null MX beside other records;
			// the other records are used.
			continue
		}
		h := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
		if checkLDH(h) != nil {
			continue
		}
		if i := slices.IndexFunc(hosts, func(x Host) bool { return x.Name == h }); i >= 0 {
			hosts[i].Pref = min(hosts[i].Pref, mx.Pref)
			continue
		}
		hosts = append(hosts, Host{Name: h, Pref: mx.Pref})
	}
	if len(hosts) == 0 {
		// RFC 5321 §5.1: "If MX records are present, but none of them
		// are usable, ... this situation MUST be reported as an error."
		return nil, permanent(domain, ErrNoAddress, errors.New("no valid MX host names"))
	}
	// RFC 5321 §5.1: sort by preference, lowest first; randomize equal
	// preferences. A uniform shuffle then a stable sort does both.
	intN := l.Rand
	if intN == nil {
		intN = rand.IntN
	}
	for i := len(hosts) - 1; i > 0; i-- {
		j := intN(i + 1)
		hosts[i], hosts[j] = hosts[j], hosts[i]
	}
	slices.SortStableFunc(hosts, func(a, b Host) int { return cmp.Compare(a.Pref, b.Pref) })
	return hosts, nil
}

func isRoot(h string) bool { return h == "." || h == "" }

// pruneNames applies the RFC 5321 §5.1 loop rule to LocalNames.
func (l *Locator) pruneNames(domain string, hosts []Host) ([]Host, error) {
	if len(l.LocalNames) == 0 {
		return hosts, nil
	}
	local := make([]string, 0, len(l.LocalNames))
	for _, n := range l.LocalNames {
		if nn, err := Normalize(n); err == nil {
			local = append(local, nn)
		}
	}
	i := slices.IndexFunc(hosts, func(h Host) bool { return slices.Contains(local, h.Name) })
	if i < 0 {
		return hosts, nil
	}
	return cutAt(domain, hosts, hosts[i].Pref)
}

// cutAt drops the hosts of preference pref or worse; hosts are sorted.
func cutAt(domain string, hosts []Host, pref uint16) ([]Host, error) {
	n := slices.IndexFunc(hosts, func(h Host) bool { return h.Pref >= pref })
	if n == 0 {
		return nil, permanent(domain, ErrLoop, nil)
	}
	return hosts[:n], nil
}

// isLocal reports whether a is one of LocalAddrs.
func (l *Locator) isLocal(a netip.Addr) bool {
	return slices.ContainsFunc(l.LocalAddrs, func(b netip.Addr) bool { return a.Unmap() == b.Unmap() })
}

type lookupResult struct {
	addrs []netip.Addr
	err   error
}

// resolve looks up the hosts' addresses concurrently and assembles the
// answer in order.
func (l *Locator) resolve(ctx context.Context, domain string, hosts []Host) ([]Host, error) {
	res := make([]lookupResult, len(hosts))
	r := l.resolver()
	network := l.Family.network()
	var wg sync.WaitGroup
	for i := range hosts {
		wg.Go(func() {
			addrs, err := r.LookupNetIP(ctx, network, rooted(hosts[i].Name))
			res[i] = lookupResult{addrs, err}
		})
	}
	wg.Wait()

	// The loop rule for LocalAddrs, now that the addresses are known.
	if len(l.LocalAddrs) > 0 {
		for i, h := range hosts {
			if slices.ContainsFunc(res[i].addrs, l.isLocal) {
				var err error
				if hosts, err = cutAt(domain, hosts, h.Pref); err != nil {
					return nil, err
				}
				break
			}
		}
	}

	budget := limit(l.MaxAddrs, DefaultMaxAddrs)
	seen := make(map[netip.Addr]bool)
	out := make([]Host, 0, len(hosts))
	var errs []error
	temp := false
	for i, h := range hosts {
		if budget <= 0 {
			break
		}
		if err := res[i].err; err != nil && len(res[i].addrs) == 0 {
			errs = append(errs, err)
			temp = temp || !isNotFound(err)
			continue
		}
		h.Addrs = l.order(res[i].addrs, seen, budget)
		budget -= len(h.Addrs)
		if len(h.Addrs) > 0 {
			out = append(out, h)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(seen) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no addresses of an enabled family"))
	}
	err := errors.Join(errs...)
	switch {
	case hosts[0].Implicit && temp:
		return nil, temporary(domain, ErrLookup, err)
	case hosts[0].Implicit:
		return nil, permanent(domain, ErrNoSuchDomain, err)
	case temp:
		return nil, temporary(domain, ErrNoAddress, err)
	}
	return nil, permanent(domain, ErrNoAddress, err)
}

// order returns the addresses of one host to try, by family policy, leaving
// out addresses already seen and stopping at max.
func (l *Locator) order(addrs []netip.Addr, seen map[netip.Addr]bool, max int) []netip.Addr {
	out := make([]netip.Addr, 0, min(len(addrs), max))
	add := func(want4 bool) {
		for _, a := range addrs {
			a = a.Unmap()
			if len(out) >= max || a.Is4() != want4 || !l.Family.allows(a) || seen[a] || !a.IsValid() {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
	}
	first4 := l.Family == PreferIPv4 || l.Family == IPv4Only
	add(first4)
	add(!first4)
	return out
}
