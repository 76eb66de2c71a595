// Package dnsmxtest provides an in-process DNS server for tests of code that
// looks up MX, A, AAAA, TXT, CNAME and PTR records: mail delivery, SPF,
// DKIM and DMARC.
//
// The server listens on 127.0.0.1 on a free port, over UDP and TCP, answers
// from a Zone written as a Go map, and can be told to fail: SERVFAIL,
// REFUSED, or no answer at all, for every query type of a name or for some
// types only. Server.Resolver returns a *net.Resolver (Go's own DNS client)
// that sends all its queries there:
//
//	srv := dnsmxtest.NewServer(t, dnsmxtest.Zone{
//		"example.test":     {dnsmxtest.MX(10, "mx.example.test")},
//		"mx.example.test":  {dnsmxtest.A("192.0.2.25")},
//		"_dmarc.example.test": {dnsmxtest.TXT("v=DMARC1; p=reject")},
//	})
//	mxs, err := srv.Resolver().LookupMX(ctx, "example.test.")
//
// The server acts as a recursive resolver would towards a stub resolver:
// answers have the RA and AA bits, CNAME chains inside the zone are followed
// and returned whole, and names absent from the zone are NXDOMAIN (names
// with descendants in the zone answer NODATA). A UDP answer larger than
// 512 octets, or than the client's EDNS(0) buffer capped at MaxUDPSize, is
// sent truncated so the client retries over TCP (RFC 1035 §4.2, RFC 6891,
// RFC 7766). Malformed queries get FORMERR, or no answer when even the
// header is unreadable. NXDOMAIN and NODATA answers carry, in the
// authority section, the SOA record of the closest enclosing name that has
// one (see SOA), with TTL the smaller of its TTL and MINIMUM (RFC 2308
// §3), so negative caching can be tested.
//
// Not implemented: DNSSEC, zone transfers, wildcards, delegation, dynamic
// update, and EDNS options.
package dnsmxtest
