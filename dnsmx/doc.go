// Package dnsmx finds the hosts to deliver mail to: the step of RFC 5321 §5
// where an SMTP client "looks up the domain in DNS to find the mail exchange
// servers" and tries them in order of preference.
//
// Locator.Locate turns the domain of a recipient address into a list of
// hosts, each with its addresses, in the order to try them:
//
//   - MX records sorted by preference, lowest first, with records of equal
//     preference shuffled (RFC 5321 §5.1; the randomness is injectable).
//   - The implicit MX: when the MX query says there are no MX records, the
//     domain itself at preference 0 (RFC 5321 §5.1, RFC 974). A failed MX
//     query (SERVFAIL, timeout) never falls back to address records.
//   - Null MX, a single "MX 0 ." record, means the domain accepts no mail
//     (RFC 7505): ErrNullMX, a permanent error.
//   - Each exchanger's IPv6 and IPv4 addresses, ordered by Family:
//     PreferIPv6 (the default) puts a host's IPv6 addresses before its IPv4
//     ones and keeps the resolver's order within a family; PreferIPv4 does
//     the reverse; IPv6Only and IPv4Only query and return one family
//     (RFC 5321 §5.2 leaves this to local policy). An address already
//     listed for a better host is not repeated.
//   - The loop rule of RFC 5321 §5.1: given the names (LocalNames) and
//     addresses (LocalAddrs) of the local host, the record that matches and
//     all records of equal or worse preference are discarded; if nothing
//     is left, ErrLoop, a permanent error.
//   - Bounds on the number of hosts resolved (MaxHosts, default 10) and of
//     addresses returned (MaxAddrs, default 20).
//   - Address literals, "[192.0.2.1]" and "[IPv6:2001:db8::1]" (RFC 5321
//     §4.1.3), bypass DNS.
//   - Internationalised domain names are converted to A-labels with
//     golang.org/x/net/idna before lookup (RFC 5890, RFC 5891 §5, UTS #46
//     nontransitional mapping); names must then be LDH host names.
//
// Names are queried fully qualified (with a trailing dot), so resolv.conf
// search domains are never appended (RFC 5321 §5.1 forbids relays to infer
// them).
//
// # Errors
//
// Locate's errors are *Error values wrapping a sentinel (ErrInvalidDomain,
// ErrNoSuchDomain, ErrNullMX, ErrNoAddress, ErrLoop, ErrLookup) and, when
// there is one, the resolver's error, usually a *net.DNSError; errors.Is
// and errors.As see both. (*Error).Temporary and IsTemporary tell a queue
// whether to retry later (SERVFAIL, timeouts, network errors, malformed or
// refused answers) or to bounce (no such domain, null MX, invalid domain,
// loop).
//
// Go's resolver reports a name that does not exist (NXDOMAIN) and a name
// without records of the asked type (NODATA) alike, as a *net.DNSError
// with IsNotFound set; SERVFAIL sets IsTemporary, a timeout IsTimeout, and
// REFUSED or a malformed answer neither. Locate therefore reads "not found"
// for MX as "no MX records" and tries the implicit MX; for a domain that
// does not exist the address lookup is not found too, and the result is
// ErrNoSuchDomain, the outcome RFC 5321 §5.1 asks for.
//
// # Resolvers and caching
//
// The Resolver interface is the part of *net.Resolver that delivery needs,
// so net.DefaultResolver, a &net.Resolver{PreferGo: true, Dial: ...} aimed
// at a chosen server, and the test server of package dnsmxtest all serve.
//
// StubResolver is a Resolver that speaks DNS itself (RFC 1035) and reports
// record TTLs through the TTLResolver interface: UDP with EDNS(0) (RFC
// 6891, 1232 octets), a TCP retry when the reply is truncated (RFC 7766
// §5), random query IDs, replies checked against the ID and question (RFC
// 5452 §9.1), CNAME chains followed within the answer, and the
// negative-caching TTL of RFC 2308 §5 taken from the SOA of NXDOMAIN and
// NODATA replies. Its errors are *net.DNSError values flagged as those of
// *net.Resolver are, so Locator and IsTemporary treat them alike. Servers
// default to the nameserver lines of /etc/resolv.conf.
//
// Cache wraps a Resolver and is one itself. With a TTLResolver it keeps
// each answer for its record TTL and each "not found" answer for its SOA
// negative TTL, bounded by MinTTL (default 5 s) and MaxTTL (default 1
// hour); a negative answer without SOA is not cached. *net.Resolver does
// not report TTLs, so with it Cache keeps answers for a configured TTL
// (default 5 minutes) and "not found" answers for a configured negative
// TTL (default 1 minute). Either way it never caches temporary failures
// and holds a bounded number of answers (least recently used evicted
// first).
//
// # Not implemented
//
// DANE and MTA-STS (RFC 7672, RFC 8461: policy on top of the hosts found
// here), DNSSEC validation, SRV-based submission lookup (RFC 6186), record
// TTLs through *net.Resolver (use StubResolver), DNS over TLS or HTTPS,
// resolv.conf options other than nameserver, Happy Eyeballs interleaving
// of families (RFC 8305), and general address literals with tags other than IPv6 (RFC 5321 §4.1.3).
// MX targets that are CNAMEs are followed although RFC 5321 §5.1 puts
// them outside the standard. A null MX found beside other MX records, which
// RFC 7505 §3 forbids, is skipped and the other records are used.
package dnsmx
