package spf

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

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// macroState is the state of RFC 7208 §7.4's examples.
func macroState(ip string) *state {
	zone := &fakeZone{exists: map[string]bool{}, a: map[string][]netip.Addr{}, ptr: map[string][]string{},
		txt: map[string][]string{}, mx: map[string][]*net.MX{}, cname: map[string]string{}, timeout: map[string]bool{}}
	for _, n := range []string{"mx.example.org.", dnsmxtest.ReverseName("192.0.2.3"), dnsmxtest.ReverseName("2001:db8::cb01")} {
		zone.exists[n] = true
	}
	zone.ptr[dnsmxtest.ReverseName("192.0.2.3")] = []string{"mx.example.org."}
	zone.ptr[dnsmxtest.ReverseName("2001:db8::cb01")] = []string{"mx.example.org."}
	zone.a["mx.example.org."] = []netip.Addr{netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("2001:db8::cb01")}
	c := &Checker{Resolver: fakeResolver{zone}, Hostname: "mx.receiver.example",
		Now: func() time.Time { return time.Unix(1700000000, 0) }}
	return &state{c: c, ctx: context.Background(), ip: netip.MustParseAddr(ip),
		sender: "strong-bad@email.example.com", local: "strong-bad", senderDomain: "email.example.com", helo: "mx.example.org"}
}

func TestMacroExpansion(t *testing.T) {
	// RFC 7208 §7.4.
	for _, tc := range []struct{ ip, in, want string }{
		{"192.0.2.3", "%{s}", "strong-bad@email.example.com"},
		{"192.0.2.3", "%{o}", "email.example.com"},
		{"192.0.2.3", "%{d}", "email.example.com"},
		{"192.0.2.3", "%{d4}", "email.example.com"},
		{"192.0.2.3", "%{d3}", "email.example.com"},
		{"192.0.2.3", "%{d2}", "example.com"},
		{"192.0.2.3", "%{d1}", "com"},
		{"192.0.2.3", "%{dr}", "com.example.email"},
		{"192.0.2.3", "%{d2r}", "example.email"},
		{"192.0.2.3", "%{l}", "strong-bad"},
		{"192.0.2.3", "%{l-}", "strong.bad"},
		{"192.0.2.3", "%{lr}", "strong-bad"},
		{"192.0.2.3", "%{lr-}", "bad.strong"},
		{"192.0.2.3", "%{l1r-}", "strong"},
		{"192.0.2.3", "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"},
		{"192.0.2.3", "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"},
		{"192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"},
		{"192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"},
		{"192.0.2.3", "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"},
		{"2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}", "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"},
		// Escapes, upper case (URL escaping), %{p}, %{h}, delimiters.
		{"192.0.2.3", "%%%_%-", "% %20"},
		{"192.0.2.3", "%{S}", "strong-bad%40email.example.com"},
		{"192.0.2.3", "%{p}", "mx.example.org"},
		{"2001:db8::cb01", "%{p}", "mx.example.org"},
		{"192.0.2.3", "%{h}", "mx.example.org"},
		{"192.0.2.3", "%{l2-+}", "strong.bad"},
		{"192.0.2.3", "%{d200}", "email.example.com"},
		{"192.0.2.3", "%{dR}", "com.example.email"},
	} {
		ms, off, msg := parseMacro(tc.in, domainMacro)
		require.Empty(t, msg, "%s at %d", tc.in, off)
		got, err := ms.expand(&env{s: macroState(tc.ip), domain: "email.example.com"})
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.in, ms.String())
	}
}

func TestMacroExplanation(t *testing.T) {
	s := macroState("2001:db8::cb01")
	e, ok := expandExplanation("%{c} via %{r} at %{t}: see http://%{d}/why?s=%{S}&i=%{I}", &env{s: s, domain: "example.com", explain: true})
	require.True(t, ok)
	assert.Equal(t, "2001:db8::cb01 via mx.receiver.example at 1700000000: see http://example.com/why?s=strong-bad%40email.example.com&i=2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1", e)
	s.c.Hostname = ""
	e, _ = expandExplanation("%{r}", &env{s: s, explain: true})
	assert.Equal(t, "unknown", e)
	_, ok = expandExplanation("caf\u00e9", &env{s: s, explain: true})
	assert.False(t, ok, "non-ASCII explanation")
	e, _ = expandExplanation(strings.Repeat("x", 2*MaxExplanation), &env{s: s, explain: true})
	assert.Len(t, e, MaxExplanation)
}

func TestMacroErrors(t *testing.T) {
	for _, in := range []string{"%", "%x", "%{", "%{}", "%{x}", "%{d0}", "%{d2r.!}", "%{c}", "%{r}", "%{t}", "a b", "caf\u00e9", "tab\there"} {
		_, _, msg := parseMacro(in, domainMacro)
		assert.NotEmpty(t, msg, in)
	}
}

func TestParseRecord(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v=spf1", "v=spf1"},
		{"V=SPF1 +MX -All", "v=spf1 mx -all"},
		{"v=spf1  a/24//64 mx:example.com/0 ~ptr ?exists:%{ir}.bl.example.org ip4:192.0.2.0/24 ip6:2001:DB8::/32 include:_spf.example.com redirect=_spf.example.com exp=exp.%{d} foo.bar=%{l} ",
			"v=spf1 a/24//64 mx:example.com/0 ~ptr ?exists:%{ir}.bl.example.org ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com redirect=_spf.example.com exp=exp.%{d} foo.bar=%{l}"},
		{"v=spf1 a:foo:bar/baz.example.com", "v=spf1 a:foo:bar/baz.example.com"},
		{"v=spf1 a//64 mx//0", "v=spf1 a//64 mx//0"},
		{"v=spf1 ip4:192.0.2.1/32", "v=spf1 ip4:192.0.2.1"},
	} {
		r, err := ParseRecord(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, r.String())
		again, err := ParseRecord(r.String())
		require.NoError(t, err)
		assert.Equal(t, r.String(), again.String())
	}

	r, err := ParseRecord("v=spf1 a:mail.example.com/24//64 -all redirect=x.example.com exp=e.%{d}")
	require.NoError(t, err)
	ms := r.Mechanisms()
	require.Len(t, ms, 2)
	assert.Equal(t, &Mechanism{Qualifier: QualifierPass, Kind: KindA, Domain: "mail.example.com", CIDR4: 24, CIDR6: 64, Offset: 7, domain: ms[0].domain}, ms[0])
	assert.Equal(t, Fail, ms[1].Qualifier.Result())
	rd, ok := r.Redirect()
	assert.True(t, ok)
	assert.Equal(t, "x.example.com", rd)
	exp, ok := r.Explanation()
	assert.True(t, ok)
	assert.Equal(t, "e.%{d}", exp)
	assert.Equal(t, 38, r.Terms[2].Pos())
}

func TestParseRecordErrors(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
		term   string
	}{
		{"v=spf10", 0, ""},
		{"spf1 -all", 0, ""},
		{"v=spf1 -all:x", 11, "-all:x"},
		{"v=spf1 foo", 7, "foo"},
		{"v=spf1 a:", 9, "a:"},
		{"v=spf1 include", 14, "include"},
		{"v=spf1 a:example", 9, "a:example"},
		{"v=spf1 a:example.com/33", 20, "a:example.com/33"},
		{"v=spf1 a/024", 8, "a/024"},
		{"v=spf1 ip4:192.0.2.01", 11, "ip4:192.0.2.01"},
		{"v=spf1 ip4:192.0.2", 11, "ip4:192.0.2"},
		{"v=spf1 ip6:192.0.2.1", 11, "ip6:192.0.2.1"},
		{"v=spf1 ip6:::1/129", 11, "ip6:::1/129"},
		{"v=spf1 ptr/24", 10, "ptr/24"},
		{"v=spf1 exists:%{c}.example.com", 16, "exists:%{c}.example.com"},
		{"v=spf1 redirect=a.example.com redirect=b.example.com", 30, "redirect=b.example.com"},
		{"v=spf1 exp=", 11, "exp="},
		{"v=spf1 -redirect=a.example.com", 16, "-redirect=a.example.com"},
		{"v=spf1 a:ctrl.example.com\rptr", 25, "a:ctrl.example.com\rptr"},
		{"v=spf1 \u0080a", 7, "\u0080a"},
		{"v=spf1 x=%{z}", 11, "x=%{z}"},
	} {
		_, err := ParseRecord(tc.in)
		var se *SyntaxError
		require.ErrorAs(t, err, &se, tc.in)
		assert.Equal(t, tc.offset, se.Offset, "%q: %v", tc.in, err)
		assert.Equal(t, tc.term, se.Term, tc.in)
		assert.NotEmpty(t, se.Msg)
	}
}

func TestIsRecord(t *testing.T) {
	assert.True(t, IsRecord("v=spf1"))
	assert.True(t, IsRecord("v=spf1 -all"))
	assert.True(t, IsRecord("V=Spf1 -all"))
	assert.False(t, IsRecord("v=spf10"))
	assert.False(t, IsRecord("v=spf1-all"))
	assert.False(t, IsRecord(" v=spf1"))
	assert.False(t, IsRecord("v=DMARC1; p=none"))
}

// faultZone serves SPF records over dnsmxtest, with failing names.
var faultZone = dnsmxtest.Zone{
	"ok.test":                          {dnsmxtest.TXT("v=spf1 a:host.ok.test -all")},
	"other.ok.test":                    {dnsmxtest.A("198.51.100.1")},
	"host.ok.test":                     {dnsmxtest.A("192.0.2.1"), dnsmxtest.AAAA("2001:db8::1")},
	"servfail.test":                    {dnsmxtest.ServFail()},
	"refused.test":                     {dnsmxtest.Refused()},
	"silent.test":                      {dnsmxtest.Drop()},
	"a-servfail.test":                  {dnsmxtest.TXT("v=spf1 a:broken.ok.test -all")},
	"broken.ok.test":                   {dnsmxtest.ServFail()},
	"mx-servfail.test":                 {dnsmxtest.TXT("v=spf1 mx -all"), dnsmxtest.MX(10, "broken.ok.test")},
	"inc-servfail.test":                {dnsmxtest.TXT("v=spf1 include:servfail.test -all")},
	"exists-drop.test":                 {dnsmxtest.TXT("v=spf1 exists:silent.test -all")},
	"ptr-servfail.test":                {dnsmxtest.TXT("v=spf1 ptr -all")},
	dnsmxtest.ReverseName("192.0.2.1"): {dnsmxtest.ServFail()},
	"two.test":                         {dnsmxtest.TXT("v=spf1 -all"), dnsmxtest.TXT("v=spf1 +all")},
	"none.test":                        {dnsmxtest.TXT("google-site-verification=x")},
	"voids.test":                       {dnsmxtest.TXT("v=spf1 a:n1.voids.test a:n2.voids.test a:n3.voids.test -all")},
	"loop.test":                        {dnsmxtest.TXT("v=spf1 include:loop.test -all")},
	"many.test":                        {dnsmxtest.TXT("v=spf1" + strings.Repeat(" a:other.ok.test", 11) + " -all")},
	"exp.test":                         {dnsmxtest.TXT("v=spf1 -all exp=why.exp.test")},
	"why.exp.test":                     {dnsmxtest.TXT("%{i} is not one of %{d}'s senders")},
	"helo.ok.test":                     {dnsmxtest.TXT("v=spf1 ip4:192.0.2.0/24 -all")},
}

func TestCheckHostErrors(t *testing.T) {
	srv := dnsmxtest.NewServer(t, faultZone)
	c := &Checker{Resolver: srv.Resolver(), Timeout: 2 * time.Second, DefaultExplanation: "not authorized by %{d}"}
	ip := netip.MustParseAddr("192.0.2.1")
	for _, tc := range []struct {
		domain string
		want   Result
		is     error
		mech   string
	}{
		{"ok.test", Pass, nil, "a:host.ok.test"},
		{"servfail.test", TempError, ErrDNS, ""},
		{"refused.test", TempError, ErrDNS, ""},
		{"silent.test", TempError, ErrDNS, ""},
		{"a-servfail.test", TempError, ErrDNS, ""},
		{"mx-servfail.test", TempError, ErrDNS, ""},
		{"inc-servfail.test", TempError, ErrDNS, ""},
		{"exists-drop.test", TempError, ErrDNS, ""},
		{"ptr-servfail.test", Fail, nil, "-all"}, // RFC 7208 §5.5: a PTR error is no match
		{"two.test", PermError, ErrMultipleRecords, ""},
		{"none.test", None, nil, ""},
		{"nowhere.test", None, nil, ""},
		{"voids.test", PermError, ErrTooManyVoidLookups, ""},
		{"loop.test", PermError, ErrTooManyLookups, ""},
		{"many.test", PermError, ErrTooManyLookups, ""},
		{"single-label", None, nil, ""},
	} {
		t.Run(tc.domain, func(t *testing.T) {
			if tc.domain == "silent.test" || tc.domain == "exists-drop.test" {
				c := *c
				c.Timeout = 200 * time.Millisecond
				o, err := c.CheckHost(testCtx(t), ip, tc.domain, "user@"+tc.domain, "helo.test")
				assert.Equal(t, tc.want, o.Result)
				assert.ErrorIs(t, err, tc.is)
				return
			}
			o, err := c.CheckHost(testCtx(t), ip, tc.domain, "user@"+tc.domain, "helo.test")
			assert.Equal(t, tc.want, o.Result, "%v", err)
			assert.Equal(t, tc.mech, o.Mechanism)
			if tc.is == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.is)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.want, e.Result)
			assert.Equal(t, tc.want == TempError, e.Temporary())
			assert.Equal(t, err, o.Err)
			if tc.is == ErrDNS {
				var de *net.DNSError
				assert.ErrorAs(t, err, &de)
			}
		})
	}

	o, err := c.CheckHost(testCtx(t), ip, "exp.test", "user@exp.test", "helo.test")
	require.NoError(t, err)
	assert.Equal(t, Fail, o.Result)
	assert.Equal(t, "192.0.2.1 is not one of exp.test's senders", o.Explanation)

	o, _ = c.CheckHost(testCtx(t), netip.MustParseAddr("192.0.2.9"), "ok.test", "user@ok.test", "helo.test")
	assert.Equal(t, Fail, o.Result)
	assert.Equal(t, "not authorized by ok.test", o.Explanation)

	// An IPv6 client matches AAAA records; an IPv4-mapped one is IPv4.
	o, _ = c.CheckHost(testCtx(t), netip.MustParseAddr("2001:db8::1"), "ok.test", "user@ok.test", "helo.test")
	assert.Equal(t, Pass, o.Result)
	o, _ = c.CheckHost(testCtx(t), netip.MustParseAddr("::ffff:192.0.2.1"), "ok.test", "user@ok.test", "helo.test")
	assert.Equal(t, Pass, o.Result)

	_, err = c.CheckHost(testCtx(t), netip.Addr{}, "ok.test", "user@ok.test", "helo.test")
	assert.ErrorIs(t, err, ErrInvalidIP)

	// A cancelled context is a TempError too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o, err = c.CheckHost(ctx, ip, "ok.test", "user@ok.test", "helo.test")
	assert.Equal(t, TempError, o.Result)
	assert.True(t, errors.Is(err, ErrDNS))
}

func TestCheckIdentities(t *testing.T) {
	srv := dnsmxtest.NewServer(t, faultZone)
	c := &Checker{Resolver: srv.Resolver(), Hostname: "mx.receiver.test"}
	ip := netip.MustParseAddr("192.0.2.1")

	o, err := c.CheckHelo(testCtx(t), ip, "helo.ok.test")
	require.NoError(t, err)
	assert.Equal(t, Pass, o.Result)
	assert.Equal(t, IdentityHelo, o.Identity)
	assert.Equal(t, "postmaster@helo.ok.test", o.Sender)
	assert.Equal(t, "helo.ok.test", o.Domain)

	o, err = c.CheckMailFrom(testCtx(t), ip, "<>", "helo.ok.test")
	require.NoError(t, err)
	assert.Equal(t, Pass, o.Result)
	assert.Equal(t, IdentityMailFrom, o.Identity)
	assert.Equal(t, "postmaster@helo.ok.test", o.Sender)

	o, err = c.CheckMailFrom(testCtx(t), ip, "<someone@ok.test>", "helo.ok.test")
	require.NoError(t, err)
	assert.Equal(t, Pass, o.Result)
	assert.Equal(t, "ok.test", o.Domain)

	o, _ = c.CheckHelo(testCtx(t), ip, "[192.0.2.1]")
	assert.Equal(t, None, o.Result)
}

func TestReceivedSPF(t *testing.T) {
	o := Outcome{Result: Pass, Mechanism: "ip4:192.0.2.0/24", Domain: "example.com", Identity: IdentityMailFrom,
		Sender: "myname@example.com", IP: netip.MustParseAddr("192.0.2.1"), Helo: "foo.example.com", Receiver: "mybox.example.org"}
	assert.Equal(t, `pass (mybox.example.org: domain of myname@example.com designates 192.0.2.1 as permitted sender)`+
		` receiver=mybox.example.org; client-ip=192.0.2.1; envelope-from="myname@example.com"; helo=foo.example.com;`+
		` identity=mailfrom; mechanism="ip4:192.0.2.0/24"`, o.ReceivedSPF())

	// Data from the sender cannot break out of the field.
	evil := Outcome{Result: PermError, Identity: IdentityMailFrom, Sender: "a\r\nX-Evil: 1\"(x)@example.com",
		IP: netip.MustParseAddr("2001:db8::1"), Helo: "evil\r\n\tX-Injected: yes", Err: errors.New("bad\nrecord")}
	v := evil.ReceivedSPF()
	assert.NotContains(t, v, "\r")
	assert.NotContains(t, v, "\n")
	for _, c := range []byte(v) {
		assert.True(t, c >= 0x20 && c < 0x7f, "%q", c)
	}
	assert.Contains(t, v, `envelope-from="a??X-Evil: 1\"(x)@example.com"`)
	assert.Contains(t, v, `\(x\)`)
	assert.Contains(t, v, `client-ip="2001:db8::1"`)
	assert.Contains(t, v, `problem="bad?record"`)
	assert.NotContains(t, v, "mechanism=")

	long := Outcome{Result: Neutral, Helo: strings.Repeat("a", 5000), IP: netip.MustParseAddr("192.0.2.1")}
	assert.Less(t, len(long.ReceivedSPF()), 2000)
	assert.Contains(t, long.ReceivedSPF(), "mechanism=default")
}
