package dnsmx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

var ttlZone = dnsmxtest.Zone{
	"ttl.test": {
		dnsmxtest.SOA("ns.ttl.test", "hostmaster.ttl.test", 30).WithTTL(3600),
		dnsmxtest.MX(10, "mx1.ttl.test").WithTTL(600),
		dnsmxtest.MX(20, "mx2.ttl.test").WithTTL(120), // smallest TTL of the RRset wins
		dnsmxtest.TXT("v=spf1 ", "-all").WithTTL(90),
	},
	"mx1.ttl.test":      {dnsmxtest.A("192.0.2.1").WithTTL(50), dnsmxtest.AAAA("2001:db8::1").WithTTL(40)},
	"mx2.ttl.test":      {dnsmxtest.A("192.0.2.2").WithTTL(7000)},
	"alias.ttl.test":    {dnsmxtest.CNAME("alias2.ttl.test").WithTTL(20)},
	"alias2.ttl.test":   {dnsmxtest.CNAME("mx2.ttl.test").WithTTL(300)},
	"broken.ttl.test":   {dnsmxtest.ServFail()},
	"refused.ttl.test":  {dnsmxtest.Refused()},
	"silent.ttl.test":   {dnsmxtest.Drop()},
	"short.ttl.test":    {dnsmxtest.A("192.0.2.3").WithTTL(1)},
	"long.ttl.test":     {dnsmxtest.A("192.0.2.4").WithTTL(86400)},
	"big.ttl.test":      {dnsmxtest.TXT(strings.Repeat("x", 1500))},
	"nosoa.test":        {dnsmxtest.A("192.0.2.9")},
	"lowsoa.ttl.test":   {dnsmxtest.SOA("ns.ttl.test", "hostmaster.ttl.test", 600).WithTTL(10)},
	"nullmx.ttl.test":   {dnsmxtest.MX(0, ".")},
	"implicit.ttl.test": {dnsmxtest.A("192.0.2.80")},
}

func ttlClient(t *testing.T) (*StubResolver, *dnsmxtest.Server) {
	srv := dnsmxtest.NewServer(t, ttlZone)
	return &StubResolver{Servers: []string{srv.Addr()}, Timeout: 2 * time.Second}, srv
}

func TestClientAnswers(t *testing.T) {
	c, _ := ttlClient(t)
	ctx := testCtx(t)

	mxs, ttl, err := c.LookupMXTTL(ctx, "TTL.test")
	require.NoError(t, err)
	assert.Equal(t, []*net.MX{{Host: "mx1.ttl.test.", Pref: 10}, {Host: "mx2.ttl.test.", Pref: 20}}, mxs)
	assert.Equal(t, 120*time.Second, ttl)

	txts, ttl, err := c.LookupTXTTTL(ctx, "ttl.test.")
	require.NoError(t, err)
	assert.Equal(t, []string{"v=spf1 -all"}, txts)
	assert.Equal(t, 90*time.Second, ttl)

	for _, tc := range []struct {
		network, host string
		want          []string
		ttl           time.Duration
	}{
		{"ip", "mx1.ttl.test", []string{"2001:db8::1", "192.0.2.1"}, 40 * time.Second},
		{"ip4", "mx1.ttl.test", []string{"192.0.2.1"}, 50 * time.Second},
		{"ip6", "mx1.ttl.test.", []string{"2001:db8::1"}, 40 * time.Second},
		{"ip", "mx2.ttl.test", []string{"192.0.2.2"}, 7000 * time.Second},
		{"ip4", "alias.ttl.test", []string{"192.0.2.2"}, 20 * time.Second}, // CNAME chain: smallest TTL
	} {
		t.Run(tc.network+" "+tc.host, func(t *testing.T) {
			addrs, ttl, err := c.LookupNetIPTTL(ctx, tc.network, tc.host)
			require.NoError(t, err)
			var got []string
			for _, a := range addrs {
				got = append(got, a.String())
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ttl, ttl)
		})
	}

	// The Resolver methods give the same answers.
	addrs, err := c.LookupNetIP(ctx, "ip4", "mx2.ttl.test")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.2")}, addrs)
}

func TestClientNegative(t *testing.T) {
	c, _ := ttlClient(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{
		{"nothing.ttl.test", 30 * time.Second}, // NXDOMAIN: min(SOA TTL 3600, MINIMUM 30)
		{"mx1.ttl.test", 30 * time.Second},     // NODATA
		{"lowsoa.ttl.test", 10 * time.Second},  // SOA TTL below MINIMUM
		{"nosoa.test", 0},                      // no SOA: not to be cached
		{"nothing.test", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ttl, err := c.LookupMXTTL(ctx, tc.name)
			var de *net.DNSError
			require.ErrorAs(t, err, &de)
			assert.True(t, de.IsNotFound)
			assert.False(t, IsTemporary(err))
			assert.Equal(t, tc.ttl, ttl)
		})
	}
}

func TestClientErrors(t *testing.T) {
	c, _ := ttlClient(t)
	c.Timeout, c.Attempts = 200*time.Millisecond, 1
	ctx := testCtx(t)
	for _, tc := range []struct {
		name    string
		timeout bool
	}{
		{"broken.ttl.test", false},
		{"refused.ttl.test", false},
		{"silent.ttl.test", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ttl, err := c.LookupMXTTL(ctx, tc.name)
			var de *net.DNSError
			require.ErrorAs(t, err, &de)
			assert.False(t, de.IsNotFound)
			assert.True(t, IsTemporary(err))
			assert.Equal(t, tc.timeout, de.IsTimeout)
			assert.Zero(t, ttl)
		})
	}
	_, err := c.LookupNetIP(ctx, "tcp", "mx1.ttl.test")
	require.Error(t, err)
	_, err = c.LookupMX(ctx, strings.Repeat("a", 64)+".test")
	require.Error(t, err, "label longer than 63 octets")
}

// Locator gives the same outcomes with a StubResolver as with *net.Resolver.
func TestClientLocate(t *testing.T) {
	c, srv := ttlClient(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		domain string
		kind   error
		temp   bool
	}{
		{"nothing.ttl.test", ErrNoSuchDomain, false},
		{"nullmx.ttl.test", ErrNullMX, false},
		{"broken.ttl.test", ErrLookup, true},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			for _, r := range []Resolver{c, srv.Resolver()} {
				_, err := (&Locator{Resolver: r}).Locate(ctx, tc.domain)
				requireKind(t, err, tc.kind, tc.temp)
			}
		})
	}
	hosts, err := (&Locator{Resolver: c}).Locate(ctx, "ttl.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"mx1.ttl.test/10: 2001:db8::1 192.0.2.1", "mx2.ttl.test/20: 192.0.2.2"}, summary(hosts))
	hosts, err = (&Locator{Resolver: c}).Locate(ctx, "implicit.ttl.test")
	require.NoError(t, err)
	assert.Equal(t, []string{"implicit.ttl.test/0: 192.0.2.80"}, summary(hosts))
}

// RFC 7766 §5: a truncated UDP reply is asked again over TCP.
func TestClientTruncatedRetriesTCP(t *testing.T) {
	srv := &dnsmxtest.Server{Zone: ttlZone, MaxUDPSize: 512}
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Close() })
	c := &StubResolver{Servers: []string{srv.Addr()}}
	txts, ttl, err := c.LookupTXTTTL(testCtx(t), "big.ttl.test")
	require.NoError(t, err)
	assert.Equal(t, []string{strings.Repeat("x", 1500)}, txts)
	assert.Equal(t, dnsmxtest.DefaultTTL*time.Second, ttl)
	assert.Equal(t, 2, srv.Queries("big.ttl.test", dnsmessage.TypeTXT), "UDP, then TCP")
}

// A dead or failing server is skipped for the next one.
func TestClientServerFailover(t *testing.T) {
	good, _ := ttlClient(t)
	bad := dnsmxtest.NewServer(t, dnsmxtest.Zone{"ttl.test": {dnsmxtest.ServFail()}})
	c := &StubResolver{Servers: []string{bad.Addr(), good.Servers[0]}, Attempts: 1}
	mxs, err := c.LookupMX(testCtx(t), "ttl.test")
	require.NoError(t, err)
	assert.Len(t, mxs, 2)
	assert.Equal(t, 1, bad.Queries("ttl.test", dnsmessage.TypeMX))
}

// fakeServer answers each UDP query with the replies made by reply.
func fakeServer(t *testing.T, reply func(q dnsmessage.Message) []dnsmessage.Message) string {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var q dnsmessage.Message
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			for _, m := range reply(q) {
				b, err := m.Pack()
				if err == nil {
					pc.WriteTo(b, from)
				}
			}
		}
	}()
	return pc.LocalAddr().String()
}

func answerTo(q dnsmessage.Message, a [4]byte) dnsmessage.Message {
	return dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, RecursionAvailable: true},
		Questions: q.Questions,
		Answers: []dnsmessage.Resource{{
			Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
			Body:   &dnsmessage.AResource{A: a},
		}},
	}
}

// RFC 5452 §9.1: replies with the wrong ID or question are not accepted.
func TestClientRejectsMismatchedReplies(t *testing.T) {
	spoofs := func(q dnsmessage.Message) []dnsmessage.Message {
		wrongID := answerTo(q, [4]byte{6, 6, 6, 1})
		wrongID.ID++
		wrongName := answerTo(q, [4]byte{6, 6, 6, 2})
		wrongName.Questions = []dnsmessage.Question{{Name: dnsmessage.MustNewName("other.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}
		wrongType := answerTo(q, [4]byte{6, 6, 6, 3})
		wrongType.Questions = []dnsmessage.Question{{Name: q.Questions[0].Name, Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET}}
		notResponse := answerTo(q, [4]byte{6, 6, 6, 4})
		notResponse.Response = false
		return []dnsmessage.Message{wrongID, wrongName, wrongType, notResponse}
	}
	ctx := testCtx(t)

	addr := fakeServer(t, func(q dnsmessage.Message) []dnsmessage.Message {
		return append(spoofs(q), answerTo(q, [4]byte{192, 0, 2, 7}))
	})
	c := &StubResolver{Servers: []string{addr}}
	addrs, ttl, err := c.LookupNetIPTTL(ctx, "ip4", "Host.Test")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.7")}, addrs)
	assert.Equal(t, time.Minute, ttl)

	// Only spoofs: the client times out rather than accept one.
	addr = fakeServer(t, spoofs)
	c = &StubResolver{Servers: []string{addr}, Timeout: 200 * time.Millisecond, Attempts: 1}
	_, err = c.LookupNetIP(ctx, "ip4", "host.test")
	var de *net.DNSError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.IsTimeout)
	assert.True(t, IsTemporary(err))
}

func TestCacheHonoursTTLs(t *testing.T) {
	c, srv := ttlClient(t)
	clk := newClock()
	cache := &Cache{Resolver: c, Now: clk.Now, TTL: time.Hour, MaxTTL: 2 * time.Hour}
	ctx := testCtx(t)
	count := func(name string, typ dnsmessage.Type) int { return srv.Queries(name, typ) }
	lookup := func(name string) error { _, err := cache.LookupNetIP(ctx, "ip4", name); return err }

	// mx1's A record has TTL 50 s.
	require.NoError(t, lookup("mx1.ttl.test"))
	clk.Advance(49 * time.Second)
	require.NoError(t, lookup("mx1.ttl.test"))
	assert.Equal(t, 1, count("mx1.ttl.test", dnsmessage.TypeA))
	clk.Advance(time.Second)
	require.NoError(t, lookup("mx1.ttl.test"))
	assert.Equal(t, 2, count("mx1.ttl.test", dnsmessage.TypeA), "record TTL passed, configured TTL ignored")

	// TTL 1 s is raised to MinTTL (default 5 s).
	require.NoError(t, lookup("short.ttl.test"))
	clk.Advance(DefaultMinTTL - time.Millisecond)
	require.NoError(t, lookup("short.ttl.test"))
	assert.Equal(t, 1, count("short.ttl.test", dnsmessage.TypeA))
	clk.Advance(time.Millisecond)
	require.NoError(t, lookup("short.ttl.test"))
	assert.Equal(t, 2, count("short.ttl.test", dnsmessage.TypeA))

	// TTL one day is capped to MaxTTL.
	require.NoError(t, lookup("long.ttl.test"))
	clk.Advance(2*time.Hour - time.Second)
	require.NoError(t, lookup("long.ttl.test"))
	assert.Equal(t, 1, count("long.ttl.test", dnsmessage.TypeA))
	clk.Advance(time.Second)
	require.NoError(t, lookup("long.ttl.test"))
	assert.Equal(t, 2, count("long.ttl.test", dnsmessage.TypeA))

	// NXDOMAIN is kept for the SOA-derived 30 s.
	require.Error(t, lookup("nothing.ttl.test"))
	clk.Advance(29 * time.Second)
	err := lookup("nothing.ttl.test")
	require.True(t, isNotFound(err))
	assert.Equal(t, 1, count("nothing.ttl.test", dnsmessage.TypeA))
	clk.Advance(time.Second)
	require.Error(t, lookup("nothing.ttl.test"))
	assert.Equal(t, 2, count("nothing.ttl.test", dnsmessage.TypeA))

	// Without an SOA a negative answer is not cached (RFC 2308 §5).
	require.Error(t, lookup("nothing.test"))
	require.Error(t, lookup("nothing.test"))
	assert.Equal(t, 2, count("nothing.test", dnsmessage.TypeA))

	// Temporary failures are not cached.
	_, err = cache.LookupMX(ctx, "broken.ttl.test")
	require.True(t, IsTemporary(err))
	_, err = cache.LookupMX(ctx, "broken.ttl.test")
	require.True(t, IsTemporary(err))
	assert.Equal(t, 2*DefaultAttempts, count("broken.ttl.test", dnsmessage.TypeMX))
}

func TestCacheTTLBounds(t *testing.T) {
	c, srv := ttlClient(t)
	clk := newClock()
	ctx := testCtx(t)
	// MinTTL above the negative TTL raises it; NegativeTTL < 0 disables.
	cache := &Cache{Resolver: c, Now: clk.Now, MinTTL: time.Minute}
	_, err := cache.LookupTXT(ctx, "nothing.ttl.test")
	require.Error(t, err)
	clk.Advance(59 * time.Second)
	_, err = cache.LookupTXT(ctx, "nothing.ttl.test")
	require.Error(t, err)
	assert.Equal(t, 1, srv.Queries("nothing.ttl.test", dnsmessage.TypeTXT))

	cache = &Cache{Resolver: c, Now: clk.Now, NegativeTTL: -1}
	for range 2 {
		_, err = cache.LookupMX(ctx, "nothing.ttl.test")
		require.Error(t, err)
	}
	assert.Equal(t, 2, srv.Queries("nothing.ttl.test", dnsmessage.TypeMX))
}

func TestParseResolvConf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{DefaultServer}},
		{"# comment\nsearch example.com\nnameserver 192.0.2.53\nnameserver ::1\noptions ndots:2\n",
			[]string{"192.0.2.53:53", "[::1]:53"}},
		{"nameserver\nnameserver bogus\nnameserver   10.0.0.1  # trailing\n", []string{"10.0.0.1:53"}},
	} {
		assert.Equal(t, tc.want, parseResolvConf(strings.NewReader(tc.in)))
	}
}

func FuzzParseReply(f *testing.F) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("host.test."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	seed := answerTo(dnsmessage.Message{Header: dnsmessage.Header{ID: 7}, Questions: []dnsmessage.Question{q}}, [4]byte{192, 0, 2, 1})
	b, err := seed.Pack()
	require.NoError(f, err)
	f.Add(b)
	cname := seed
	cname.Answers = []dnsmessage.Resource{{
		Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET, TTL: 5},
		Body:   &dnsmessage.CNAMEResource{CNAME: q.Name}, // a loop
	}}
	cname.Authorities = []dnsmessage.Resource{{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName("test."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET, TTL: 9},
		Body:   &dnsmessage.SOAResource{NS: q.Name, MBox: q.Name, MinTTL: 3},
	}}
	b, err = cname.Pack()
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte{0, 7, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := parseReply(msg, 7, q)
		if err != nil {
			return
		}
		rrs, ttl, err := r.result("host.test", "fuzz")
		if err == nil {
			require.NotEmpty(t, rrs)
			for _, rr := range rrs {
				require.IsType(t, &dnsmessage.AResource{}, rr)
			}
		}
		require.GreaterOrEqual(t, ttl, time.Duration(0))
		require.LessOrEqual(t, ttl, time.Duration(1<<31-1)*time.Second)
		if err != nil && !errors.As(err, new(*net.DNSError)) {
			t.Fatalf("error of type %T", err)
		}
	})
}

// The CNAME chain followed within one answer is bounded; a loop is a
// temporary error, like the SERVFAIL a recursive resolver gives.
func TestClientCNAMELimit(t *testing.T) {
	chain := func(n int, loop bool) func(q dnsmessage.Message) []dnsmessage.Message {
		return func(q dnsmessage.Message) []dnsmessage.Message {
			m := answerTo(q, [4]byte{192, 0, 2, 9})
			owner := q.Questions[0].Name
			var rrs []dnsmessage.Resource
			for i := range n {
				target := dnsmessage.MustNewName(fmt.Sprintf("c%d.test.", i))
				if loop && i == n-1 {
					target = q.Questions[0].Name
				}
				rrs = append(rrs, dnsmessage.Resource{
					Header: dnsmessage.ResourceHeader{Name: owner, Type: dnsmessage.TypeCNAME, Class: dnsmessage.ClassINET, TTL: 60},
					Body:   &dnsmessage.CNAMEResource{CNAME: target},
				})
				owner = target
			}
			m.Answers[0].Header.Name = owner
			if loop {
				m.Answers[0].Header.Name = dnsmessage.MustNewName("elsewhere.test.")
			}
			m.Answers = append(rrs, m.Answers...)
			return []dnsmessage.Message{m}
		}
	}
	ctx := testCtx(t)
	c := &StubResolver{Servers: []string{fakeServer(t, chain(maxCNAMEs, false))}, Attempts: 1}
	ips, err := c.LookupNetIP(ctx, "ip4", "start.test")
	require.NoError(t, err)
	assert.Equal(t, addrs("192.0.2.9"), ips)

	for _, loop := range []bool{false, true} {
		c = &StubResolver{Servers: []string{fakeServer(t, chain(maxCNAMEs+1, loop))}, Attempts: 1}
		ips, err = c.LookupNetIP(ctx, "ip4", "start.test")
		require.Error(t, err, "loop %v: %v", loop, ips)
		assert.True(t, IsTemporary(err), "%v", err)
	}
}

// EDNS(0) lets answers up to 1232 octets come over UDP (RFC 6891).
func TestClientEDNS(t *testing.T) {
	srv := dnsmxtest.NewServer(t, dnsmxtest.Zone{"medium.test": {dnsmxtest.TXT(strings.Repeat("y", 900))}})
	c := &StubResolver{Servers: []string{srv.Addr()}}
	txts, err := c.LookupTXT(testCtx(t), "medium.test")
	require.NoError(t, err)
	assert.Equal(t, []string{strings.Repeat("y", 900)}, txts)
	assert.Equal(t, 1, srv.Queries("medium.test", dnsmessage.TypeTXT), "no TCP retry needed")
}

// A UDP reply longer than the read buffer (maxUDPReply) is cut, fails to
// parse and counts as a temporary failure rather than a partial answer.
func TestClientOversizedUDPReply(t *testing.T) {
	addr := fakeServer(t, func(q dnsmessage.Message) []dnsmessage.Message {
		m := answerTo(q, [4]byte{})
		m.Answers = nil
		for range 4 {
			m.Answers = append(m.Answers, dnsmessage.Resource{
				Header: dnsmessage.ResourceHeader{Name: q.Questions[0].Name, Type: dnsmessage.TypeTXT, Class: dnsmessage.ClassINET, TTL: 60},
				Body:   &dnsmessage.TXTResource{TXT: []string{strings.Repeat("z", 255), strings.Repeat("z", 255), strings.Repeat("z", 255), strings.Repeat("z", 255)}},
			})
		}
		return []dnsmessage.Message{m}
	})
	c := &StubResolver{Servers: []string{addr}, Attempts: 1}
	_, err := c.LookupTXT(testCtx(t), "big.test")
	require.Error(t, err)
	assert.True(t, IsTemporary(err), "%v", err)
}

// A cancelled context ends the lookup with a temporary error.
func TestClientCancelled(t *testing.T) {
	c, _ := ttlClient(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	_, err := c.LookupMX(ctx, "ttl.test")
	require.Error(t, err)
	assert.True(t, IsTemporary(err))
}
