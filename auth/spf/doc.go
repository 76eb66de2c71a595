// Package spf evaluates Sender Policy Framework policies (RFC 7208): it
// tells whether a client IP address may send mail for a domain.
//
// A Checker runs check_host (RFC 7208 §4) through a dnsmx.Resolver
// (*net.Resolver, dnsmx.StubResolver, dnsmx.Cache or a test resolver):
//
//	c := &spf.Checker{Resolver: &dnsmx.Cache{}, Hostname: "mx.example.org"}
//	o, err := c.CheckMailFrom(ctx, clientIP, "alice@example.com", heloName)
//	// o.Result is pass, fail, softfail, neutral, none, temperror or permerror
//	h.Add("Received-SPF", o.ReceivedSPF())
//
// CheckMailFrom checks the "MAIL FROM" identity (§2.4; postmaster@HELO for
// a null reverse-path), CheckHelo the "HELO" identity (§2.3), CheckHost
// any domain and sender. The error is nil unless the result is temperror
// or permerror; it is then an *Error wrapping a sentinel (ErrDNS,
// ErrTooManyLookups, ...), a *SyntaxError, or the resolver's
// *net.DNSError.
//
// # What is implemented
//
//   - Initial processing (§4.3): malformed or single-label domains and
//     NXDOMAIN give none; "postmaster" for a missing local-part; IDNs are
//     turned into A-labels.
//   - Record lookup and selection (§4.4, §4.5): TXT only; records start
//     with "v=spf1"; several give permerror, none gives none; any DNS error
//     other than NXDOMAIN or no data (a *net.DNSError without IsNotFound,
//     a timeout, a cancelled context) gives temperror.
//   - Syntax (§4.6.1, §5, §6, §7.1): ParseRecord checks the whole record
//     before evaluation and reports a *SyntaxError with the offset and
//     term; qualifiers; all, include, a, mx, ptr, ip4, ip6, exists; dual
//     CIDR lengths on a and mx; redirect and exp at most once; unknown
//     modifiers are checked as macro-strings and ignored.
//   - Evaluation (§4.6, §4.7, §5, §6.1): include results as in the §5.2
//     table, redirect only without "all", a and mx by the client's address
//     family, exists with A queries, ptr with validated names.
//   - Limits (§4.6.4): 10 DNS-querying terms (include, a, mx, ptr, exists,
//     redirect), 2 void lookups, more than 10 MX names is permerror, only
//     the first 10 PTR names are looked at; a time limit for the whole
//     check (default 20 s), whose expiry is temperror. MaxLookups,
//     MaxVoidLookups and Timeout change them.
//   - Macros (§7): all letters, transformers (digits, r), delimiters,
//     URL escaping for upper-case letters, %{i} in nibble form for IPv6,
//     %{p} as the validated name, %{c}, %{r} and %{t} only in explanations,
//     truncation of expanded names to 253 octets (§7.3).
//   - Explanations (§6.2): for fail, the exp= TXT record expanded as an
//     explain-string, US-ASCII only, at most MaxExplanation bytes; the
//     exp of an include target is never used, that of a redirect target
//     is; otherwise Checker.DefaultExplanation.
//   - Received-SPF (§9.1): Outcome.ReceivedSPF, printable US-ASCII with
//     sender-supplied text quoted and clipped.
//
// # What is not
//
// The SPF RR type (99) is never queried (RFC 7208 §3.1 removed it). There
// is no result cache: put a dnsmx.Cache in front of the resolver. Local
// policy (whitelists, best-guess records, trusted forwarders) and the
// Authentication-Results field (RFC 8601) are left to the caller. A name
// produced by macro expansion that is not a valid domain name (an empty or
// overlong label) is treated as having no records, and counts as a void
// lookup, RFC 7208 §4.8 leaving this open.
package spf
