package dnsmxtest

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// DefaultTTL is the TTL of records whose TTL is zero.
const DefaultTTL = 300

// Zone maps domain names to their records. Names are case-insensitive and
// may omit the trailing dot. A name that is absent, and has no names below
// it, does not exist (NXDOMAIN); a name present with no records of the asked
// type, or with names below it, answers NODATA.
//
//	dnsmxtest.Zone{
//		"example.test":      {dnsmxtest.MX(10, "mx1.example.test"), dnsmxtest.TXT("v=spf1 -all")},
//		"mx1.example.test":  {dnsmxtest.A("192.0.2.1"), dnsmxtest.AAAA("2001:db8::1")},
//		"alias.example.test": {dnsmxtest.CNAME("mx1.example.test")},
//		"broken.test":       {dnsmxtest.ServFail()},
//		"silent.test":       {dnsmxtest.Drop()},
//	}
type Zone map[string][]Record

// Record is one resource record, or a fault that replaces the answer for
// its name. Build records with the constructors (MX, A, TXT, ServFail, ...)
// or fill Body with any dnsmessage.ResourceBody.
type Record struct {
	TTL  uint32                  // 0 means DefaultTTL
	Body dnsmessage.ResourceBody // nil for a fault

	fault fault
	rcode dnsmessage.RCode
	types []dnsmessage.Type // types the fault applies to; none means all
}

type fault int

const (
	noFault fault = iota
	rcodeFault
	dropFault
)

// WithTTL returns r with the given TTL.
func (r Record) WithTTL(ttl uint32) Record {
	r.TTL = ttl
	return r
}

func (r Record) String() string {
	switch r.fault {
	case rcodeFault:
		return fmt.Sprintf("fault %v for %v", r.rcode, r.types)
	case dropFault:
		return fmt.Sprintf("no answer for %v", r.types)
	}
	if r.Body == nil {
		return "empty record"
	}
	return r.Body.GoString()
}

// appliesTo reports whether a fault record concerns a query of type t.
func (r Record) appliesTo(t dnsmessage.Type) bool {
	return r.fault != noFault && (len(r.types) == 0 || slices.Contains(r.types, t))
}

func name(s string) dnsmessage.Name {
	n, err := dnsmessage.NewName(canonical(s))
	if err != nil {
		panic("dnsmxtest: bad name " + s + ": " + err.Error())
	}
	return n
}

// canonical returns s in lower case with a trailing dot.
func canonical(s string) string {
	s = strings.ToLower(s)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// MX returns an MX record. MX(0, ".") is a null MX (RFC 7505).
func MX(pref uint16, host string) Record {
	return Record{Body: &dnsmessage.MXResource{Pref: pref, MX: name(host)}}
}

// A returns an A record; it panics if ip is not an IPv4 address.
func A(ip string) Record {
	a := netip.MustParseAddr(ip)
	if !a.Is4() {
		panic("dnsmxtest: A record with non-IPv4 address " + ip)
	}
	return Record{Body: &dnsmessage.AResource{A: a.As4()}}
}

// AAAA returns an AAAA record; it panics if ip is not an IPv6 address.
func AAAA(ip string) Record {
	a := netip.MustParseAddr(ip)
	if !a.Is6() {
		panic("dnsmxtest: AAAA record with non-IPv6 address " + ip)
	}
	return Record{Body: &dnsmessage.AAAAResource{AAAA: a.As16()}}
}

// TXT returns one TXT record made of the given strings. A string longer than
// 255 octets, the limit of one character-string (RFC 1035 §3.3), is split
// into several, as DKIM keys are published; resolvers join them again.
func TXT(strs ...string) Record {
	var parts []string
	for _, s := range strs {
		for len(s) > 255 {
			parts = append(parts, s[:255])
			s = s[255:]
		}
		parts = append(parts, s)
	}
	return Record{Body: &dnsmessage.TXTResource{TXT: parts}}
}

// CNAME returns a CNAME record. The server follows CNAME chains inside the
// zone, as a recursive resolver would, and answers with the whole chain.
func CNAME(target string) Record {
	return Record{Body: &dnsmessage.CNAMEResource{CNAME: name(target)}}
}

// PTR returns a PTR record, for names under in-addr.arpa or ip6.arpa.
func PTR(target string) Record {
	return Record{Body: &dnsmessage.PTRResource{PTR: name(target)}}
}

// NS returns an NS record.
func NS(host string) Record {
	return Record{Body: &dnsmessage.NSResource{NS: name(host)}}
}

// SOA returns an SOA record whose MINIMUM field is minimum. When a query
// ends in NXDOMAIN or NODATA, the server puts the SOA of the closest
// enclosing name that has one into the authority section, with TTL the
// smaller of the record's TTL and minimum, as RFC 2308 §3 asks, so that
// clients can cache the negative answer (RFC 2308 §5).
func SOA(ns, mbox string, minimum uint32) Record {
	return Record{Body: &dnsmessage.SOAResource{NS: name(ns), MBox: name(mbox), Serial: 1,
		Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: minimum}}
}

// ServFail makes queries for the name fail with SERVFAIL, for the given
// types only or, with none, for all types.
func ServFail(types ...dnsmessage.Type) Record {
	return RCode(dnsmessage.RCodeServerFailure, types...)
}

// NXDomain makes the name not exist (NXDOMAIN) although it is in the zone,
// for the given types only or for all; names absent from the zone need no
// record for that.
func NXDomain(types ...dnsmessage.Type) Record {
	return RCode(dnsmessage.RCodeNameError, types...)
}

// Refused makes queries for the name fail with REFUSED.
func Refused(types ...dnsmessage.Type) Record {
	return RCode(dnsmessage.RCodeRefused, types...)
}

// RCode makes queries for the name answer with rcode and no records.
func RCode(rcode dnsmessage.RCode, types ...dnsmessage.Type) Record {
	return Record{fault: rcodeFault, rcode: rcode, types: types}
}

// Drop makes queries for the name go unanswered, so clients time out.
func Drop(types ...dnsmessage.Type) Record {
	return Record{fault: dropFault, types: types}
}

// ReverseName returns the name under in-addr.arpa (IPv4) or ip6.arpa
// (IPv6) that holds the PTR records of ip, for zones that answer reverse
// lookups such as (*net.Resolver).LookupAddr:
//
//	dnsmxtest.Zone{
//		dnsmxtest.ReverseName("192.0.2.1"): {dnsmxtest.PTR("mx1.example.test")},
//	}
//
// It panics if ip is not an IP address.
func ReverseName(ip string) string {
	a := netip.MustParseAddr(ip).Unmap()
	const hex = "0123456789abcdef"
	var b strings.Builder
	if a.Is4() {
		v := a.As4()
		for i := 3; i >= 0; i-- {
			fmt.Fprintf(&b, "%d.", v[i])
		}
		return b.String() + "in-addr.arpa."
	}
	v := a.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[v[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[v[i]>>4])
		b.WriteByte('.')
	}
	return b.String() + "ip6.arpa."
}
