package dnsmx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// zone is the test data for Locate through Go's resolver.
var zone = dnsmxtest.Zone{
	"sorted.test": {
		dnsmxtest.MX(30, "c.mx.test"), dnsmxtest.MX(10, "a.mx.test"), dnsmxtest.MX(20, "b.mx.test"),
	},
	"a.mx.test": {dnsmxtest.A("192.0.2.1"), dnsmxtest.AAAA("2001:db8::1")},
	"b.mx.test": {dnsmxtest.A("192.0.2.2")},
	"c.mx.test": {dnsmxtest.AAAA("2001:db8::3")},
	"d.mx.test": {dnsmxtest.A("192.0.2.4")},

	"equal.test": {
		dnsmxtest.MX(10, "a.mx.test"), dnsmxtest.MX(10, "b.mx.test"), dnsmxtest.MX(10, "d.mx.test"),
		dnsmxtest.MX(5, "c.mx.test"),
	},
	"implicit.test":  {dnsmxtest.A("192.0.2.80"), dnsmxtest.AAAA("2001:db8::80"), dnsmxtest.TXT("no mx here")},
	"nullmx.test":    {dnsmxtest.MX(0, ".")},
	"nullmix.test":   {dnsmxtest.MX(0, "."), dnsmxtest.MX(10, "b.mx.test")},
	"cnamemx.test":   {dnsmxtest.MX(10, "alias.mx.test")},
	"alias.mx.test":  {dnsmxtest.CNAME("b.mx.test")},
	"aliased.test":   {dnsmxtest.CNAME("sorted.test")},
	"mxfail.test":    {dnsmxtest.ServFail(dnsmessage.TypeMX), dnsmxtest.A("192.0.2.99")},
	"mxsilent.test":  {dnsmxtest.Drop(dnsmessage.TypeMX), dnsmxtest.A("192.0.2.99")},
	"afail.test":     {dnsmxtest.ServFail(dnsmessage.TypeA, dnsmessage.TypeAAAA)},
	"deadhosts.test": {dnsmxtest.MX(10, "gone1.test"), dnsmxtest.MX(20, "gone2.test")},
	"halfdead.test":  {dnsmxtest.MX(10, "broken.mx.test"), dnsmxtest.MX(20, "b.mx.test")},
	"allbroken.test": {dnsmxtest.MX(10, "broken.mx.test"), dnsmxtest.MX(20, "gone1.test")},
	"broken.mx.test": {dnsmxtest.ServFail()},
	"xn--bcher-kva.test": {
		dnsmxtest.MX(10, "xn--mx-wka.xn--bcher-kva.test"),
	},
	"xn--mx-wka.xn--bcher-kva.test": {dnsmxtest.A("192.0.2.77")},
	"v6only.test":                   {dnsmxtest.MX(10, "c.mx.test")},
	"dup.test":                      {dnsmxtest.MX(10, "a.mx.test"), dnsmxtest.MX(20, "a2.mx.test")},
	"a2.mx.test":                    {dnsmxtest.A("192.0.2.1"), dnsmxtest.A("192.0.2.12")},
}

func init() { zone["many.test"] = manyMX(15) }

func manyMX(n int) []dnsmxtest.Record {
	var rrs []dnsmxtest.Record
	for i := range n {
		rrs = append(rrs, dnsmxtest.MX(uint16(i), fmt.Sprintf("h%d.many.test", i)))
		zone[fmt.Sprintf("h%d.many.test", i)] = []dnsmxtest.Record{
			dnsmxtest.A(fmt.Sprintf("198.51.100.%d", i)), dnsmxtest.A(fmt.Sprintf("203.0.113.%d", i)),
		}
	}
	return rrs
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// summary renders hosts as "name/pref: addrs" lines for compact assertions.
func summary(hosts []Host) []string {
	var out []string
	for _, h := range hosts {
		s := fmt.Sprintf("%s/%d:", h.Name, h.Pref)
		for _, a := range h.Addrs {
			s += " " + a.String()
		}
		out = append(out, s)
	}
	return out
}

func requireKind(t *testing.T, err error, kind error, temp bool) *Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind)
	e, ok := errors.AsType[*Error](err)
	require.True(t, ok, "%T", err)
	assert.Equal(t, temp, e.Temporary(), "Temporary of %v", err)
	assert.Equal(t, temp, IsTemporary(err), "IsTemporary of %v", err)
	return e
}

func TestLocateOrder(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	for _, tc := range []struct {
		family Family
		want   []string
	}{
		{PreferIPv6, []string{"a.mx.test/10: 2001:db8::1 192.0.2.1", "b.mx.test/20: 192.0.2.2", "c.mx.test/30: 2001:db8::3"}},
		{PreferIPv4, []string{"a.mx.test/10: 192.0.2.1 2001:db8::1", "b.mx.test/20: 192.0.2.2", "c.mx.test/30: 2001:db8::3"}},
		{IPv4Only, []string{"a.mx.test/10: 192.0.2.1", "b.mx.test/20: 192.0.2.2"}},
		{IPv6Only, []string{"a.mx.test/10: 2001:db8::1", "c.mx.test/30: 2001:db8::3"}},
	} {
		t.Run(fmt.Sprint(tc.family), func(t *testing.T) {
			l := Locator{Resolver: srv.Resolver(), Family: tc.family}
			hosts, err := l.Locate(testCtx(t), "sorted.test")
			require.NoError(t, err)
			assert.Equal(t, tc.want, summary(hosts))
			assert.False(t, hosts[0].Implicit || hosts[0].Literal)
		})
	}
}

func TestLocateShuffle(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	cache := &Cache{Resolver: srv.Resolver()}

	// An injected Rand makes the order repeatable. The shuffle is a
	// Fisher-Yates over all records before a stable sort by preference.
	pick := func(js ...int) func(int) int {
		return func(n int) int { j := js[0]; js = js[1:]; return j % n }
	}
	seen := map[string]bool{}
	for _, js := range [][]int{{0, 0, 0}, {3, 2, 1}, {1, 0, 0}, {2, 1, 0}, {0, 1, 0}, {3, 0, 1}} {
		l := Locator{Resolver: cache, Rand: pick(js...)}
		hosts, err := l.Locate(testCtx(t), "equal.test")
		require.NoError(t, err)
		require.Len(t, hosts, 4)
		assert.Equal(t, "c.mx.test", hosts[0].Name, "preference 5 is first whatever the shuffle")
		var names []string
		for _, h := range hosts[1:] {
			assert.Equal(t, uint16(10), h.Pref)
			names = append(names, h.Name)
		}
		assert.ElementsMatch(t, []string{"a.mx.test", "b.mx.test", "d.mx.test"}, names)
		seen[fmt.Sprint(names)] = true

		again, err := (&Locator{Resolver: cache, Rand: pick(js...)}).Locate(testCtx(t), "equal.test")
		require.NoError(t, err)
		assert.Equal(t, summary(hosts), summary(again), "same Rand, same order")
	}
	assert.Greater(t, len(seen), 2, "different Rand values give different orders")

	// The default randomness puts each equal host first sometimes; the
	// chance that one never leads in 300 tries is below 1e-50.
	first := map[string]int{}
	var l Locator
	l.Resolver = cache
	for range 300 {
		hosts, err := l.Locate(testCtx(t), "equal.test")
		require.NoError(t, err)
		first[hosts[1].Name]++
	}
	assert.Len(t, first, 3, "%v", first)
}

func TestLocateImplicitMX(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver()}
	hosts, err := l.Locate(testCtx(t), "Implicit.TEST.")
	require.NoError(t, err)
	require.Len(t, hosts, 1)
	assert.Equal(t, Host{Name: "implicit.test", Implicit: true, Addrs: addrs("2001:db8::80", "192.0.2.80")}, hosts[0])

	// NXDOMAIN: no MX, no address either.
	_, err = l.Locate(testCtx(t), "nonexistent.test")
	requireKind(t, err, ErrNoSuchDomain, false)
	_, err = l.Locate(testCtx(t), "mx.test") // exists (names below it) but has no records
	requireKind(t, err, ErrNoSuchDomain, false)

	// SERVFAIL for MX: the implicit MX MUST NOT be used although the
	// domain has an A record.
	_, err = l.Locate(testCtx(t), "mxfail.test")
	e := requireKind(t, err, ErrLookup, true)
	de, ok := errors.AsType[*net.DNSError](e)
	require.True(t, ok)
	assert.True(t, de.IsTemporary, "Go reports SERVFAIL as IsTemporary")
	assert.Equal(t, 0, srv.Queries("mxfail.test", dnsmessage.TypeA))

	// The implicit MX's own address lookup fails temporarily.
	_, err = l.Locate(testCtx(t), "afail.test")
	requireKind(t, err, ErrLookup, true)
}

func TestLocateTimeout(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver()}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	_, err := l.Locate(ctx, "mxsilent.test")
	e := requireKind(t, err, ErrLookup, true)
	assert.True(t, e.Timeout(), "%v", err)
	assert.Equal(t, 0, srv.Queries("mxsilent.test", dnsmessage.TypeA), "no fallback to the implicit MX")
}

func TestLocateNullMX(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver()}
	_, err := l.Locate(testCtx(t), "nullmx.test")
	requireKind(t, err, ErrNullMX, false)
	assert.Equal(t, 0, srv.Queries("nullmx.test", dnsmessage.TypeA))

	// A null MX beside other records (forbidden by RFC 7505 §3): the
	// other records are used.
	hosts, err := l.Locate(testCtx(t), "nullmix.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"b.mx.test/10: 192.0.2.2"}, summary(hosts))
}

func TestLocateCNAME(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver(), Family: IPv4Only}
	hosts, err := l.Locate(testCtx(t), "cnamemx.test")
	require.NoError(t, err, "an MX target that is a CNAME is outside RFC 5321 but followed")
	assert.Equal(t, []string{"alias.mx.test/10: 192.0.2.2"}, summary(hosts))

	// RFC 5321 §5.1: "If a CNAME record is found, the resulting name is
	// processed as if it were the initial name."
	hosts, err = l.Locate(testCtx(t), "aliased.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"a.mx.test", "b.mx.test"}, []string{hosts[0].Name, hosts[1].Name})
}

func TestLocateUnusableHosts(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver()}

	_, err := l.Locate(testCtx(t), "deadhosts.test")
	requireKind(t, err, ErrNoAddress, false)

	hosts, err := l.Locate(testCtx(t), "halfdead.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"b.mx.test/20: 192.0.2.2"}, summary(hosts))

	_, err = l.Locate(testCtx(t), "allbroken.test")
	requireKind(t, err, ErrNoAddress, true)

	_, err = (&Locator{Resolver: srv.Resolver(), Family: IPv4Only}).Locate(testCtx(t), "v6only.test")
	requireKind(t, err, ErrNoAddress, false)
}

func TestLocateLocalHost(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	r := srv.Resolver()
	for _, tc := range []struct {
		name   string
		l      Locator
		domain string
		want   []string
		err    error
	}{
		{"by name, backup MX", Locator{LocalNames: []string{"B.MX.TEST."}}, "sorted.test",
			[]string{"a.mx.test/10"}, nil},
		{"by name, primary MX", Locator{LocalNames: []string{"other.test", "a.mx.test"}}, "sorted.test",
			nil, ErrLoop},
		{"by name, equal preference", Locator{LocalNames: []string{"d.mx.test"}, Rand: func(int) int { return 0 }}, "equal.test",
			[]string{"c.mx.test/5"}, nil},
		{"by address", Locator{LocalAddrs: addrs("2001:db8::3")}, "sorted.test",
			[]string{"a.mx.test/10", "b.mx.test/20"}, nil},
		{"by address, equal preference", Locator{LocalAddrs: addrs("192.0.2.4")}, "equal.test",
			[]string{"c.mx.test/5"}, nil},
		{"by address, primary", Locator{LocalAddrs: addrs("::ffff:192.0.2.1")}, "sorted.test",
			nil, ErrLoop},
		{"implicit MX", Locator{LocalNames: []string{"implicit.test"}}, "implicit.test",
			nil, ErrLoop},
		{"literal", Locator{LocalAddrs: addrs("192.0.2.1")}, "[192.0.2.1]",
			nil, ErrLoop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.l.Resolver = r
			hosts, err := tc.l.Locate(testCtx(t), tc.domain)
			if tc.err != nil {
				requireKind(t, err, tc.err, false)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, h := range hosts {
				got = append(got, fmt.Sprintf("%s/%d", h.Name, h.Pref))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// failResolver fails the test if asked anything.
type failResolver struct{ t *testing.T }

func (f failResolver) LookupMX(context.Context, string) ([]*net.MX, error) {
	f.t.Error("unexpected MX query")
	return nil, errors.New("unexpected")
}

func (f failResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	f.t.Error("unexpected address query")
	return nil, errors.New("unexpected")
}

func (f failResolver) LookupTXT(context.Context, string) ([]string, error) {
	f.t.Error("unexpected TXT query")
	return nil, errors.New("unexpected")
}

func (f failResolver) LookupAddr(context.Context, string) ([]string, error) {
	f.t.Error("unexpected PTR query")
	return nil, errors.New("unexpected")
}

func TestLocateLiteral(t *testing.T) {
	l := Locator{Resolver: failResolver{t}}
	for _, tc := range []struct{ in, name, addr string }{
		{"[192.0.2.1]", "[192.0.2.1]", "192.0.2.1"},
		{"[IPv6:2001:DB8::1]", "[IPv6:2001:db8::1]", "2001:db8::1"},
		{"[IPv6:::ffff:192.0.2.9]", "[192.0.2.9]", "192.0.2.9"},
	} {
		hosts, err := l.Locate(testCtx(t), tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, []Host{{Name: tc.name, Literal: true, Addrs: addrs(tc.addr)}}, hosts)
	}
	for _, in := range []string{"[192.0.2.300]", "[2001:db8::1]", "[IPv6:fe80::1%lo]", "[", "[]"} {
		_, err := l.Locate(testCtx(t), in)
		requireKind(t, err, ErrInvalidDomain, false)
	}
	_, err := (&Locator{Resolver: failResolver{t}, Family: IPv4Only}).Locate(testCtx(t), "[IPv6:2001:db8::1]")
	requireKind(t, err, ErrNoAddress, false)
	_, err = (&Locator{Resolver: failResolver{t}, Family: IPv6Only}).Locate(testCtx(t), "[192.0.2.1]")
	requireKind(t, err, ErrNoAddress, false)
}

func TestLocateInvalidDomain(t *testing.T) {
	l := Locator{Resolver: failResolver{t}}
	for _, in := range []string{"", "a..b", "-bad.test", "under_score.test", "sp ace.test", "xn--zz.test"} {
		_, err := l.Locate(testCtx(t), in)
		requireKind(t, err, ErrInvalidDomain, false)
	}
}

func TestLocateIDNA(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	l := Locator{Resolver: srv.Resolver()}
	for _, d := range []string{"bücher.test", "BÜCHER.test.", "xn--bcher-kva.test", "ｂüｃｈｅｒ．test"} {
		hosts, err := l.Locate(testCtx(t), d)
		require.NoError(t, err, d)
		assert.Equal(t, []string{"xn--mx-wka.xn--bcher-kva.test/10: 192.0.2.77"}, summary(hosts), d)
	}
	assert.Equal(t, 4, srv.Queries("xn--bcher-kva.test", dnsmessage.TypeMX))
}

func TestLocateBounds(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	r := srv.Resolver()

	hosts, err := (&Locator{Resolver: r, Family: IPv4Only}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	assert.Len(t, hosts, DefaultMaxHosts, "DefaultMaxHosts")
	assert.Equal(t, 0, srv.Queries("h10.many.test", dnsmessage.TypeA), "hosts past the bound are not resolved")

	hosts, err = (&Locator{Resolver: r, Family: IPv4Only, MaxHosts: 2}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"h0.many.test", "h1.many.test"}, []string{hosts[0].Name, hosts[1].Name})
	assert.Len(t, hosts, 2)

	hosts, err = (&Locator{Resolver: r, Family: IPv4Only, MaxAddrs: 3}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	require.Len(t, hosts, 2)
	assert.Len(t, hosts[0].Addrs, 2)
	assert.Len(t, hosts[1].Addrs, 1, "MaxAddrs cuts the second host short")

	hosts, err = (&Locator{Resolver: r, Family: IPv4Only, MaxHosts: 100, MaxAddrs: 100}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	assert.Len(t, hosts, 15)

	hosts, err = (&Locator{Resolver: r, Family: IPv4Only, MaxHosts: -1, MaxAddrs: -1}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	assert.Len(t, hosts, DefaultMaxHosts, "negative limits mean the defaults")

	// 20 addresses by default: 10 hosts with 2 each.
	hosts, err = (&Locator{Resolver: r, Family: IPv4Only, MaxHosts: 100}).Locate(testCtx(t), "many.test")
	require.NoError(t, err)
	n := 0
	for _, h := range hosts {
		n += len(h.Addrs)
	}
	assert.Equal(t, DefaultMaxAddrs, n)
}

func TestLocateDuplicateAddresses(t *testing.T) {
	srv := dnsmxtest.NewServer(t, zone)
	hosts, err := (&Locator{Resolver: srv.Resolver(), Family: IPv4Only}).Locate(testCtx(t), "dup.test")
	require.NoError(t, err)
	require.Len(t, hosts, 2)
	assert.Equal(t, addrs("192.0.2.12"), hosts[1].Addrs, "192.0.2.1 was already listed for a.mx.test")
}

// mapResolver answers from maps, for answers a DNS server cannot give.
type mapResolver struct {
	mx    map[string][]*net.MX
	mxErr map[string]error
	ip    map[string][]netip.Addr
}

func (m mapResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return m.mx[name], m.mxErr[name]
}

func (m mapResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := m.ip[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (m mapResolver) LookupTXT(context.Context, string) ([]string, error) { return nil, nil }

func (m mapResolver) LookupAddr(context.Context, string) ([]string, error) { return nil, nil }

func TestLocateResolverAnswers(t *testing.T) {
	malformed := &net.DNSError{Err: "DNS response contained records which contain invalid names", Name: "partial.test."}
	r := mapResolver{
		mx: map[string][]*net.MX{
			"partial.test.": {{Host: "x.test.", Pref: 10}},
			"odd.test.":     {nil, {Host: "bad_name.test.", Pref: 1}, {Host: "X.TEST.", Pref: 30}, {Host: "x.test", Pref: 20}, {Host: "y.test.", Pref: 25}},
			"invalid.test.": {{Host: "bad_name.test.", Pref: 1}},
			"lone.test.":    {{Host: ".", Pref: 10}},
		},
		mxErr: map[string]error{"partial.test.": malformed},
		ip: map[string][]netip.Addr{
			"x.test.":     addrs("192.0.2.3", "2001:db8::2", "::ffff:192.0.2.1", "2001:db8::1", "192.0.2.3"),
			"y.test.":     addrs("192.0.2.9"),
			"empty.test.": addrs("192.0.2.10"),
		},
	}
	l := Locator{Resolver: r}

	hosts, err := l.Locate(testCtx(t), "partial.test")
	require.NoError(t, err, "the valid records of a partly malformed answer are used")
	assert.Equal(t, []string{"x.test/10: 2001:db8::2 2001:db8::1 192.0.2.3 192.0.2.1"}, summary(hosts),
		"families grouped, resolver order kept within each, mapped addresses unmapped, duplicates dropped")

	hosts, err = l.Locate(testCtx(t), "odd.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"x.test/20", "y.test/25"}, []string{summary(hosts)[0][:9], summary(hosts)[1][:9]},
		"nil and invalid records skipped, duplicate names merged at the best preference")

	_, err = l.Locate(testCtx(t), "invalid.test")
	requireKind(t, err, ErrNoAddress, false)

	_, err = l.Locate(testCtx(t), "lone.test")
	requireKind(t, err, ErrNullMX, false)

	hosts, err = l.Locate(testCtx(t), "empty.test")
	require.NoError(t, err, "an empty MX answer without error means no MX records")
	assert.True(t, hosts[0].Implicit)
}

// FuzzLocate runs Locate over arbitrary domains and MX answers (one
// "pref host" per line) and checks the invariants of its result.
func FuzzLocate(f *testing.F) {
	f.Add("example.test", "10 a.test.\n20 b.test.\n20 c.test.")
	f.Add("example.test", "0 .")
	f.Add("example.test", "0 .\n10 a.test.")
	f.Add("[192.0.2.1]", "")
	f.Add("bücher.test", "")
	f.Add("x.test", "5 bad_name.\n5 A.TEST\n7 a.test.")
	f.Fuzz(func(t *testing.T, domain, answer string) {
		mxs := map[string][]*net.MX{}
		ips := map[string][]netip.Addr{}
		for i, line := range strings.Split(answer, "\n") {
			pref, host, ok := strings.Cut(line, " ")
			p, err := strconv.ParseUint(pref, 10, 16)
			if !ok || err != nil {
				continue
			}
			mxs["example.test."] = append(mxs["example.test."], &net.MX{Host: host, Pref: uint16(p)})
			if i%3 != 2 { // some hosts have no address
				ips[rooted(strings.ToLower(strings.TrimSuffix(host, ".")))] = addrs(fmt.Sprintf("192.0.2.%d", i%4), fmt.Sprintf("2001:db8::%d", i%5))
			}
		}
		if n, err := Normalize(domain); err == nil {
			mxs[n+"."] = mxs["example.test."]
			ips[n+"."] = addrs("198.51.100.1")
		}
		l := Locator{Resolver: mapResolver{mx: mxs, ip: ips}, MaxHosts: 4, MaxAddrs: 5, LocalNames: []string{"local.test"}}
		hosts, err := l.Locate(context.Background(), domain)
		if err != nil {
			e, ok := errors.AsType[*Error](err)
			require.True(t, ok, "%T %v", err, err)
			require.Contains(t, []error{ErrInvalidDomain, ErrNoSuchDomain, ErrNullMX, ErrNoAddress, ErrLoop, ErrLookup}, e.Kind)
			require.Nil(t, hosts)
			return
		}
		require.NotEmpty(t, hosts)
		require.LessOrEqual(t, len(hosts), 4)
		seen := map[netip.Addr]bool{}
		for i, h := range hosts {
			require.NotEmpty(t, h.Addrs)
			require.NotEqual(t, "local.test", h.Name)
			if i > 0 {
				require.LessOrEqual(t, hosts[i-1].Pref, h.Pref)
			}
			for _, a := range h.Addrs {
				require.False(t, seen[a], "address %v repeated", a)
				seen[a] = true
			}
		}
		require.LessOrEqual(t, len(seen), 5)
	})
}
