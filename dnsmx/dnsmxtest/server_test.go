package dnsmxtest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/dns/dnsmessage"
)

var testZone = Zone{
	"example.test": {
		MX(10, "mx1.example.test"), MX(20, "MX2.example.test."),
		TXT("v=spf1 ", "ip4:192.0.2.0/24 ", "-all"),
		TXT("second record"),
	},
	"mx1.example.test":   {A("192.0.2.1"), AAAA("2001:db8::1")},
	"mx2.example.test":   {A("192.0.2.2")},
	"alias.example.test": {CNAME("chain.example.test")},
	"chain.example.test": {CNAME("mx1.example.test")},
	"loop1.test":         {CNAME("loop2.test")},
	"loop2.test":         {CNAME("loop1.test")},
	"dangling.test":      {CNAME("nowhere.test")},
	"a.b.c.test":         {A("192.0.2.9")},
	"servfail.test":      {ServFail()},
	"mxfail.test":        {ServFail(dnsmessage.TypeMX), A("192.0.2.7")},
	"refused.test":       {Refused()},
	"gone.test":          {NXDomain()},
	"sub.gone.test":      {A("192.0.2.3")},
	"silent.test":        {Drop()},
	"big.test":           {TXT(strings.Repeat("k", 3000))},
	"nullmx.test":        {MX(0, ".")},
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func dnsErr(t *testing.T, err error) *net.DNSError {
	t.Helper()
	de, ok := errors.AsType[*net.DNSError](err)
	require.True(t, ok, "want *net.DNSError, got %T %v", err, err)
	return de
}

func TestRecords(t *testing.T) {
	s := NewServer(t, testZone)
	r := s.Resolver()

	mxs, err := r.LookupMX(ctx(t), "example.test.")
	require.NoError(t, err)
	require.Len(t, mxs, 2)
	assert.Equal(t, net.MX{Host: "mx1.example.test.", Pref: 10}, *mxs[0])
	assert.Equal(t, net.MX{Host: "mx2.example.test.", Pref: 20}, *mxs[1])

	ips, err := r.LookupNetIP(ctx(t), "ip", "MX1.example.test.")
	require.NoError(t, err)
	assert.ElementsMatch(t, []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, unmap(ips))

	txts, err := r.LookupTXT(ctx(t), "example.test.")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"v=spf1 ip4:192.0.2.0/24 -all", "second record"}, txts)

	nulls, err := r.LookupMX(ctx(t), "nullmx.test.")
	require.NoError(t, err)
	require.Len(t, nulls, 1)
	assert.Equal(t, ".", nulls[0].Host)

	assert.Equal(t, 1, s.Queries("example.test", dnsmessage.TypeMX))
	assert.Equal(t, 1, s.Queries("EXAMPLE.test.", dnsmessage.TypeTXT))
}

func unmap(as []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, len(as))
	for i, a := range as {
		out[i] = a.Unmap()
	}
	return out
}

func TestCNAME(t *testing.T) {
	r := NewServer(t, testZone).Resolver()
	ips, err := r.LookupNetIP(ctx(t), "ip4", "alias.example.test.")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.1")}, unmap(ips))

	// One hop: for a chain, Go's LookupCNAME races A, AAAA and CNAME
	// queries, and the CNAME query is answered with the first hop only.
	cname, err := r.LookupCNAME(ctx(t), "chain.example.test.")
	require.NoError(t, err)
	assert.Equal(t, "mx1.example.test.", cname)

	_, err = r.LookupNetIP(ctx(t), "ip4", "dangling.test.")
	assert.True(t, dnsErr(t, err).IsNotFound)

	_, err = r.LookupNetIP(ctx(t), "ip4", "loop1.test.")
	assert.True(t, dnsErr(t, err).IsTemporary, "a CNAME loop is SERVFAIL")
}

func TestNegativeAnswers(t *testing.T) {
	r := NewServer(t, testZone).Resolver()
	for _, tc := range []struct {
		name, host     string
		notFound, temp bool
	}{
		{"nxdomain", "nothing.test.", true, false},
		{"explicit nxdomain", "gone.test.", true, false},
		{"nodata", "mx2.example.test.", true, false},
		{"empty non-terminal", "b.c.test.", true, false},
		{"servfail", "servfail.test.", false, true},
		{"servfail for MX only", "mxfail.test.", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.LookupMX(ctx(t), tc.host)
			de := dnsErr(t, err)
			assert.Equal(t, tc.notFound, de.IsNotFound, "IsNotFound: %v", err)
			assert.Equal(t, tc.temp, de.IsTemporary, "IsTemporary: %v", err)
		})
	}
	ips, err := r.LookupNetIP(ctx(t), "ip4", "mxfail.test.")
	require.NoError(t, err, "the fault applies to MX only")
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.7")}, unmap(ips))

	_, err = r.LookupMX(ctx(t), "refused.test.")
	de := dnsErr(t, err)
	assert.False(t, de.IsNotFound || de.IsTemporary, "REFUSED: %v", err)
}

func TestDrop(t *testing.T) {
	r := NewServer(t, testZone).Resolver()
	c, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := r.LookupMX(c, "silent.test.")
	de := dnsErr(t, err)
	assert.True(t, de.IsTimeout, "%v", err)
}

func TestTruncationFallsBackToTCP(t *testing.T) {
	s := NewServer(t, testZone)
	txts, err := s.Resolver().LookupTXT(ctx(t), "big.test.")
	require.NoError(t, err)
	assert.Equal(t, []string{strings.Repeat("k", 3000)}, txts)

	// The raw UDP answer is truncated and empty.
	resp := exchangeUDP(t, s.Addr(), query(t, 7, "big.test.", dnsmessage.TypeTXT, false))
	var p dnsmessage.Parser
	h, err := p.Start(resp)
	require.NoError(t, err)
	assert.True(t, h.Truncated)
	assert.Equal(t, uint16(7), h.ID)
	require.NoError(t, p.SkipAllQuestions())
	_, err = p.AnswerHeader()
	assert.ErrorIs(t, err, dnsmessage.ErrSectionDone)
}

func TestMaxUDPSize(t *testing.T) {
	s := &Server{Zone: Zone{"mid.test": {TXT(strings.Repeat("m", 800))}}, MaxUDPSize: 512}
	require.NoError(t, s.Start())
	defer s.Close()
	resp := exchangeUDP(t, s.Addr(), query(t, 1, "mid.test.", dnsmessage.TypeTXT, true))
	h, err := new(dnsmessage.Parser).Start(resp)
	require.NoError(t, err)
	assert.True(t, h.Truncated, "800 octets exceed MaxUDPSize 512 despite EDNS")

	s = NewServer(t, Zone{"mid.test": {TXT(strings.Repeat("m", 800))}}) // default 1232
	resp = exchangeUDP(t, s.Addr(), query(t, 2, "mid.test.", dnsmessage.TypeTXT, true))
	h, err = new(dnsmessage.Parser).Start(resp)
	require.NoError(t, err)
	assert.False(t, h.Truncated)
	resp = exchangeUDP(t, s.Addr(), query(t, 3, "mid.test.", dnsmessage.TypeTXT, false))
	h, err = new(dnsmessage.Parser).Start(resp)
	require.NoError(t, err)
	assert.True(t, h.Truncated, "without EDNS the limit is 512")
}

func query(t *testing.T, id uint16, name string, typ dnsmessage.Type, edns bool) []byte {
	t.Helper()
	m := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}},
	}
	if edns {
		var opt dnsmessage.ResourceHeader
		require.NoError(t, opt.SetEDNS0(4096, dnsmessage.RCodeSuccess, false))
		m.Additionals = []dnsmessage.Resource{{Header: opt, Body: &dnsmessage.OPTResource{}}}
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

// exchangeUDP sends the packets in order and returns the first response.
func exchangeUDP(t *testing.T, addr string, packets ...[]byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	require.NoError(t, err)
	defer c.Close()
	for _, p := range packets {
		_, err := c.Write(p)
		require.NoError(t, err)
	}
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 65536)
	n, err := c.Read(buf)
	require.NoError(t, err)
	return buf[:n]
}

func TestMalformedQueries(t *testing.T) {
	s := NewServer(t, testZone)
	good := query(t, 99, "example.test.", dnsmessage.TypeMX, false)

	// Garbage gets no answer: the first answer is to the good query.
	resp := exchangeUDP(t, s.Addr(), []byte{1, 2, 3}, []byte{}, good)
	h, err := new(dnsmessage.Parser).Start(resp)
	require.NoError(t, err)
	assert.Equal(t, uint16(99), h.ID)

	// A response is not answered either.
	asResp := append([]byte(nil), good...)
	asResp[2] |= 0x80
	asResp[1] = 98
	resp = exchangeUDP(t, s.Addr(), asResp, good)
	h, err = new(dnsmessage.Parser).Start(resp)
	require.NoError(t, err)
	assert.Equal(t, uint16(99), h.ID)

	for _, tc := range []struct {
		name  string
		query []byte
		rcode dnsmessage.RCode
	}{
		{"no question", []byte{0, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, dnsmessage.RCodeFormatError},
		{"question cut short", append([]byte{0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, 7, 'e', 'x'), dnsmessage.RCodeFormatError},
		{"two questions", twoQuestions(t), dnsmessage.RCodeFormatError},
		{"status opcode", func() []byte { q := query(t, 5, "example.test.", dnsmessage.TypeMX, false); q[2] |= 2 << 3; return q }(), dnsmessage.RCodeNotImplemented},
		{"chaos class", func() []byte { q := query(t, 5, "example.test.", dnsmessage.TypeMX, false); q[len(q)-1] = 3; return q }(), dnsmessage.RCodeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := exchangeUDP(t, s.Addr(), tc.query)
			h, err := new(dnsmessage.Parser).Start(resp)
			require.NoError(t, err)
			assert.Equal(t, uint16(5), h.ID)
			assert.True(t, h.Response)
			assert.Equal(t, tc.rcode, h.RCode)
		})
	}
}

func twoQuestions(t *testing.T) []byte {
	m := dnsmessage.Message{Header: dnsmessage.Header{ID: 5}}
	for _, n := range []string{"a.test.", "b.test."} {
		m.Questions = append(m.Questions, dnsmessage.Question{Name: dnsmessage.MustNewName(n), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

func TestTCPPipelined(t *testing.T) {
	s := NewServer(t, testZone)
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	var out []byte
	for id := uint16(1); id <= 3; id++ {
		q := query(t, id, "mx1.example.test.", dnsmessage.TypeA, false)
		out = append(out, byte(len(q)>>8), byte(len(q)))
		out = append(out, q...)
	}
	_, err = c.Write(out)
	require.NoError(t, err)
	for id := uint16(1); id <= 3; id++ {
		var l [2]byte
		_, err := c.Read(l[:1])
		require.NoError(t, err)
		_, err = c.Read(l[1:])
		require.NoError(t, err)
		msg := make([]byte, int(l[0])<<8|int(l[1]))
		_, err = readFull(c, msg)
		require.NoError(t, err)
		var p dnsmessage.Parser
		h, err := p.Start(msg)
		require.NoError(t, err)
		assert.Equal(t, id, h.ID)
		require.NoError(t, p.SkipAllQuestions())
		a, err := p.Answer()
		require.NoError(t, err)
		assert.Equal(t, [4]byte{192, 0, 2, 1}, a.Body.(*dnsmessage.AResource).A)
	}
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func TestSetAndClose(t *testing.T) {
	s := NewServer(t, Zone{})
	r := s.Resolver()
	_, err := r.LookupNetIP(ctx(t), "ip4", "new.test.")
	assert.True(t, dnsErr(t, err).IsNotFound)

	s.Set("new.test", A("192.0.2.50"))
	ips, err := r.LookupNetIP(ctx(t), "ip4", "new.test.")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("192.0.2.50")}, unmap(ips))

	s.Set("new.test")
	_, err = r.LookupNetIP(ctx(t), "ip4", "new.test.")
	assert.True(t, dnsErr(t, err).IsNotFound)

	// An idle TCP connection does not hold up Close.
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close twice")
	assert.Error(t, s.Start(), "Start after Close")
	_, err = net.Dial("tcp", s.Addr())
	assert.Error(t, err)
}

func TestRecordConstructors(t *testing.T) {
	assert.Panics(t, func() { A("2001:db8::1") })
	assert.Panics(t, func() { AAAA("192.0.2.1") })
	assert.Panics(t, func() { MX(10, strings.Repeat("a", 300)) })
	txt := TXT(strings.Repeat("x", 600)).Body.(*dnsmessage.TXTResource)
	assert.Equal(t, []int{255, 255, 90}, []int{len(txt.TXT[0]), len(txt.TXT[1]), len(txt.TXT[2])})
	assert.Equal(t, uint32(60), MX(1, "a.test").WithTTL(60).TTL)
	assert.Contains(t, ServFail(dnsmessage.TypeMX).String(), "ServerFailure")
}

// FuzzAnswer feeds arbitrary packets to the query handler: it must not
// panic, and whatever it sends back must parse and echo the query's ID.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	for _, typ := range []dnsmessage.Type{dnsmessage.TypeMX, dnsmessage.TypeTXT, dnsmessage.TypeA, dnsmessage.TypeALL} {
		for _, n := range []string{"example.test.", "alias.example.test.", "big.test.", "loop1.test.", "servfail.test.", "x.test."} {
			m := dnsmessage.Message{Header: dnsmessage.Header{ID: 1}, Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(n), Type: typ, Class: dnsmessage.ClassINET}}}
			b, _ := m.Pack()
			f.Add(b)
		}
	}
	s := &Server{}
	s.zone = make(map[string][]Record)
	for n, rrs := range testZone {
		s.zone[canonical(n)] = rrs
	}
	s.queries = make(map[queryKey]int)
	f.Fuzz(func(t *testing.T, q []byte) {
		for _, udp := range []bool{true, false} {
			resp := s.answer(q, udp)
			if resp == nil {
				continue
			}
			if udp {
				require.LessOrEqual(t, len(resp), DefaultMaxUDPSize)
			}
			var p dnsmessage.Parser
			h, err := p.Start(resp)
			require.NoError(t, err)
			require.True(t, h.Response)
			require.Equal(t, uint16(q[0])<<8|uint16(q[1]), h.ID)
			_, err = p.AllQuestions()
			require.NoError(t, err)
			_, err = p.AllAnswers()
			require.NoError(t, err)
		}
	})
}

// RFC 2308 §3: negative answers carry the SOA of the enclosing zone, with
// TTL min(SOA TTL, MINIMUM).
func TestNegativeAnswersCarrySOA(t *testing.T) {
	srv := NewServer(t, Zone{
		"zone.test":       {SOA("ns.zone.test", "hostmaster.zone.test", 30).WithTTL(600), MX(10, "mx.zone.test")},
		"mx.zone.test":    {A("192.0.2.1")},
		"cname.zone.test": {CNAME("gone.zone.test")},
		"other.test":      {A("192.0.2.2")},
	})
	for _, tc := range []struct {
		name  string
		typ   dnsmessage.Type
		rcode dnsmessage.RCode
		soa   bool
	}{
		{"nothing.zone.test.", dnsmessage.TypeA, dnsmessage.RCodeNameError, true},
		{"mx.zone.test.", dnsmessage.TypeMX, dnsmessage.RCodeSuccess, true},
		{"cname.zone.test.", dnsmessage.TypeA, dnsmessage.RCodeNameError, true},
		{"mx.zone.test.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, false},
		{"nothing.other.test.", dnsmessage.TypeA, dnsmessage.RCodeNameError, false},
	} {
		t.Run(tc.name+tc.typ.String(), func(t *testing.T) {
			q := dnsmessage.Message{Header: dnsmessage.Header{ID: 9, RecursionDesired: true},
				Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(tc.name), Type: tc.typ, Class: dnsmessage.ClassINET}}}
			b, err := q.Pack()
			require.NoError(t, err)
			conn, err := net.Dial("udp", srv.Addr())
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
			_, err = conn.Write(b)
			require.NoError(t, err)
			buf := make([]byte, 1500)
			n, err := conn.Read(buf)
			require.NoError(t, err)
			var m dnsmessage.Message
			require.NoError(t, m.Unpack(buf[:n]))
			assert.Equal(t, tc.rcode, m.RCode)
			if !tc.soa {
				assert.Empty(t, m.Authorities)
				return
			}
			require.Len(t, m.Authorities, 1)
			assert.Equal(t, "zone.test.", m.Authorities[0].Header.Name.String())
			assert.Equal(t, uint32(30), m.Authorities[0].Header.TTL)
			assert.Equal(t, uint32(30), m.Authorities[0].Body.(*dnsmessage.SOAResource).MinTTL)
		})
	}
}
