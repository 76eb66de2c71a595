package dmarc

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// fakeResolver answers from maps; names absent are NXDOMAIN, names in
// fail give SERVFAIL. It counts the queries.
type fakeResolver struct {
	txt     map[string][]string
	mx      map[string][]*net.MX
	addrs   map[string][]netip.Addr
	fail    map[string]bool
	queries []string
}

var _ dnsmx.Resolver = (*fakeResolver)(nil)

func (f *fakeResolver) answer(kind, name string) error {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	f.queries = append(f.queries, kind+" "+name)
	if f.fail[name] {
		return &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	return nil
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f *fakeResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if err := f.answer("TXT", name); err != nil {
		return nil, err
	}
	v, ok := f.txt[strings.TrimSuffix(strings.ToLower(name), ".")]
	if !ok {
		return nil, notFound(name)
	}
	return v, nil
}

func (f *fakeResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if err := f.answer("MX", name); err != nil {
		return nil, err
	}
	v, ok := f.mx[strings.TrimSuffix(name, ".")]
	if !ok {
		return nil, notFound(name)
	}
	return v, nil
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if err := f.answer("IP", host); err != nil {
		return nil, err
	}
	v, ok := f.addrs[strings.TrimSuffix(host, ".")]
	if !ok {
		return nil, notFound(host)
	}
	return v, nil
}

func (f *fakeResolver) LookupAddr(context.Context, string) ([]string, error) {
	return nil, notFound("addr")
}

func TestLookup(t *testing.T) {
	r := &fakeResolver{
		txt: map[string][]string{
			"_dmarc.example.com":        {"v=spf1 -all", "v=DMARC1; p=reject; sp=quarantine"},
			"_dmarc.sub.example.com":    {"some other text"},
			"_dmarc.own.example.com":    {"v=DMARC1; p=none"},
			"_dmarc.multi.example.com":  {"v=DMARC1; p=none", "v=DMARC1; p=reject"},
			"_dmarc.example.co.uk":      {"v=DMARC1; p=quarantine"},
			"_dmarc.bad.example.org":    {"v=DMARC1; p=maybe"},
			"_dmarc.optbad.example.org": {"v=DMARC1; p=reject; pct=500"},
			"_dmarc.xn--bcher-kva.test": {"v=DMARC1; p=reject"},
		},
		fail: map[string]bool{"_dmarc.broken.example.net": true, "_dmarc.example.net": true},
	}
	ctx := context.Background()
	for _, tc := range []struct {
		from   string
		at     string
		policy Policy
		result Result // of the error; "" for none
		err    error
	}{
		{"example.com", "example.com", PolicyReject, "", nil},
		{"EXAMPLE.com.", "example.com", PolicyReject, "", nil},
		{"a.b.sub.example.com", "example.com", PolicyReject, "", nil},
		{"sub.example.com", "example.com", PolicyReject, "", nil},
		{"own.example.com", "own.example.com", PolicyNone, "", nil},
		{"x.own.example.com", "example.com", PolicyReject, "", nil}, // no walk: only From and Organizational Domain
		{"www.example.co.uk", "example.co.uk", PolicyQuarantine, "", nil},
		{"bücher.test", "xn--bcher-kva.test", PolicyReject, "", nil},
		{"multi.example.com", "", "", None, ErrMultipleRecords},
		{"nothing.example", "", "", None, ErrNoRecord},
		{"bad.example.org", "", "", PermError, ErrNoPolicy},
		{"broken.example.net", "", "", TempError, ErrDNS},
		{"ok.example.net", "", "", TempError, ErrDNS}, // the Organizational Domain's query fails
		{"not a domain", "", "", PermError, ErrInvalidDomain},
	} {
		rec, at, err := Lookup(ctx, r, tc.from)
		if tc.err != nil {
			assert.Nil(t, rec, tc.from)
			require.ErrorIs(t, err, tc.err, tc.from)
			var e *Error
			require.ErrorAs(t, err, &e, tc.from)
			assert.Equal(t, tc.result, e.Result, tc.from)
			continue
		}
		require.NoError(t, err, tc.from)
		assert.Equal(t, tc.at, at, tc.from)
		assert.Equal(t, tc.policy, rec.Policy, tc.from)
	}

	// A DNS failure keeps the resolver's error.
	_, _, err := Lookup(ctx, r, "broken.example.net")
	var de *net.DNSError
	require.ErrorAs(t, err, &de)
	assert.True(t, de.IsTemporary)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.True(t, e.Temporary())

	// Optional tags wrong: the record with a *SyntaxError.
	rec, at, err := Lookup(ctx, r, "optbad.example.org")
	require.NotNil(t, rec)
	assert.Equal(t, "optbad.example.org", at)
	var se *SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "pct", se.Tag)
	assert.Equal(t, 100, rec.Percent)

	// The Organizational Domain is only queried when the From domain
	// has no record, and not at all when they are the same.
	r.queries = nil
	_, _, _ = Lookup(ctx, r, "own.example.com")
	assert.Equal(t, []string{"TXT _dmarc.own.example.com"}, r.queries)
	r.queries = nil
	_, _, _ = Lookup(ctx, r, "nothing.example")
	assert.Equal(t, []string{"TXT _dmarc.nothing.example"}, r.queries)
	r.queries = nil
	_, _, _ = Lookup(ctx, r, "sub.example.com")
	assert.Equal(t, []string{"TXT _dmarc.sub.example.com", "TXT _dmarc.example.com"}, r.queries)
}

func TestOrganizationalDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":           "example.com",
		"a.b.c.d.example.com":   "example.com",
		"Mail.Example.COM.":     "example.com",
		"news.example.co.uk":    "example.co.uk",
		"com":                   "com",
		"co.uk":                 "co.uk",
		"foo.bar.example.test":  "example.test",
		"user.github.io":        "user.github.io",
		"deep.user.github.io":   "user.github.io",
		"mail.example.xn--p1ai": "example.xn--p1ai",
	} {
		assert.Equal(t, want, OrganizationalDomain(in), in)
	}
}

func TestAligned(t *testing.T) {
	for _, tc := range []struct {
		mode       AlignMode
		auth, from string
		want       bool
	}{
		// RFC 7489 §3.1.1 and §3.1.2 examples.
		{Relaxed, "example.com", "news.example.com", true},
		{Strict, "example.com", "news.example.com", false},
		{Relaxed, "cbg.bounces.example.com", "example.com", true},
		{Strict, "cbg.bounces.example.com", "example.com", false},
		{Relaxed, "com", "example.com", false},
		{Strict, "example.com", "example.com", true},
		{Strict, "Example.COM.", "example.com", true},
		{"", "a.example.com", "b.example.com", true},
		{Relaxed, "example.net", "example.com", false},
		{Relaxed, "example.co.uk", "other.co.uk", false},
		{Relaxed, "a.example.co.uk", "b.example.co.uk", true},
		{Relaxed, "alice.github.io", "bob.github.io", false},
		{Relaxed, "bücher.example", "xn--bcher-kva.example", true},
		{Relaxed, "", "example.com", false},
		{Relaxed, "bad domain", "example.com", false},
	} {
		assert.Equal(t, tc.want, Aligned(tc.mode, tc.auth, tc.from), "%s %q %q", tc.mode, tc.auth, tc.from)
	}
}

func checkResolver() *fakeResolver {
	return &fakeResolver{
		txt: map[string][]string{
			"_dmarc.example.com":   {"v=DMARC1; p=reject; sp=quarantine; np=reject"},
			"_dmarc.strict.test":   {"v=DMARC1; p=reject; adkim=s; aspf=s"},
			"_dmarc.nosp.test":     {"v=DMARC1; p=reject; np=quarantine"},
			"_dmarc.pct.test":      {"v=DMARC1; p=reject; pct=30"},
			"_dmarc.pctq.test":     {"v=DMARC1; p=quarantine; pct=30"},
			"_dmarc.pct0.test":     {"v=DMARC1; p=reject; pct=0"},
			"_dmarc.none.test":     {"v=DMARC1; p=none; sp=reject"},
			"_dmarc.implied.test":  {"v=DMARC1; rua=mailto:r@implied.test"},
			"_dmarc.badpct.test":   {"v=DMARC1; p=quarantine; pct=x"},
			"_dmarc.perm.test":     {"v=DMARC1; p=x"},
			"_dmarc.np-same.test":  {"v=DMARC1; p=reject; np=reject"},
			"_dmarc.sub.nosp.test": {"v=DMARC1; p=none"},
		},
		mx: map[string][]*net.MX{
			"mail.example.com": {{Host: "mx.example.com.", Pref: 10}},
		},
		addrs: map[string][]netip.Addr{
			"www.example.com": {netip.MustParseAddr("192.0.2.1")},
		},
		fail: map[string]bool{"_dmarc.tempfail.test": true, "flaky.example.com": true},
	}
}

func TestCheck(t *testing.T) {
	spfPass := func(d string) SPFResult { return SPFResult{Domain: d, Result: "pass"} }
	dkim := func(pairs ...string) []DKIMResult {
		var out []DKIMResult
		for i := 0; i+1 < len(pairs); i += 2 {
			out = append(out, DKIMResult{Domain: pairs[i], Result: pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name        string
		from        string
		spf         SPFResult
		dkim        []DKIMResult
		sample      int
		result      Result
		policy      Policy
		tag         string
		disposition Policy
		spfAligned  bool
		dkimAligned bool
		nonexistent bool
	}{
		{name: "spf aligned exactly", from: "example.com", spf: spfPass("example.com"),
			result: Pass, policy: PolicyReject, tag: "p", disposition: PolicyNone, spfAligned: true},
		{name: "spf relaxed", from: "example.com", spf: spfPass("bounces.example.com"),
			result: Pass, policy: PolicyReject, tag: "p", disposition: PolicyNone, spfAligned: true},
		{name: "dkim relaxed, second signature", from: "example.com", spf: SPFResult{Domain: "example.com", Result: "softfail"},
			dkim:   dkim("other.example", "pass", "mail.example.com", "pass"),
			result: Pass, policy: PolicyReject, tag: "p", disposition: PolicyNone, dkimAligned: true},
		{name: "both aligned", from: "www.example.com", spf: spfPass("example.com"), dkim: dkim("example.com", "pass"),
			result: Pass, policy: PolicyQuarantine, tag: "sp", disposition: PolicyNone, spfAligned: true, dkimAligned: true},
		{name: "spf pass unaligned, dkim fail", from: "example.com", spf: spfPass("example.net"), dkim: dkim("example.com", "fail"),
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "strict spf subdomain", from: "strict.test", spf: spfPass("mail.strict.test"), dkim: dkim("mail.strict.test", "pass"),
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "strict exact", from: "strict.test", spf: spfPass("STRICT.test"),
			result: Pass, policy: PolicyReject, tag: "p", disposition: PolicyNone, spfAligned: true},
		{name: "sp for existing subdomain (MX)", from: "mail.example.com", spf: spfPass("example.net"),
			result: Fail, policy: PolicyQuarantine, tag: "sp", disposition: PolicyQuarantine},
		{name: "sp for existing subdomain (A)", from: "www.example.com",
			result: Fail, policy: PolicyQuarantine, tag: "sp", disposition: PolicyQuarantine},
		{name: "np for non-existent subdomain", from: "ghost.example.com",
			result: Fail, policy: PolicyReject, tag: "np", disposition: PolicyReject, nonexistent: true},
		{name: "np not used when DNS fails", from: "flaky.example.com",
			result: Fail, policy: PolicyQuarantine, tag: "sp", disposition: PolicyQuarantine},
		{name: "np without sp", from: "ghost.nosp.test",
			result: Fail, policy: PolicyQuarantine, tag: "np", disposition: PolicyQuarantine, nonexistent: true},
		{name: "p for subdomain without sp or np", from: "ghost.strict.test",
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "np equal to p needs no lookup", from: "ghost.np-same.test",
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "own record of subdomain: p, never np", from: "sub.nosp.test",
			result: Fail, policy: PolicyNone, tag: "p", disposition: PolicyNone},
		{name: "p=none sp=reject at the org domain", from: "none.test",
			result: Fail, policy: PolicyNone, tag: "p", disposition: PolicyNone},
		{name: "sp=reject below", from: "x.none.test", dkim: dkim("none.test", "fail"),
			result: Fail, policy: PolicyReject, tag: "sp", disposition: PolicyReject},
		{name: "pct selected", from: "pct.test", sample: 29,
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "pct sampled out: reject to quarantine", from: "pct.test", sample: 30,
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyQuarantine},
		{name: "pct sampled out: quarantine to none", from: "pctq.test", sample: 99,
			result: Fail, policy: PolicyQuarantine, tag: "p", disposition: PolicyNone},
		{name: "pct=0", from: "pct0.test", sample: 0,
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyQuarantine},
		{name: "bad pct means 100", from: "badpct.test", sample: 99,
			result: Fail, policy: PolicyQuarantine, tag: "p", disposition: PolicyQuarantine},
		{name: "implied p=none", from: "implied.test",
			result: Fail, policy: PolicyNone, tag: "p", disposition: PolicyNone},
		{name: "aligned spf temperror", from: "example.com", spf: SPFResult{Domain: "example.com", Result: "temperror"},
			result: TempError, policy: PolicyReject, tag: "p", disposition: PolicyNone},
		{name: "aligned dkim temperror", from: "example.com", dkim: dkim("example.com", "temperror"),
			result: TempError, policy: PolicyReject, tag: "p", disposition: PolicyNone},
		{name: "temperror and an aligned pass", from: "example.com", spf: SPFResult{Domain: "example.com", Result: "temperror"},
			dkim: dkim("example.com", "pass"), result: Pass, policy: PolicyReject, tag: "p", disposition: PolicyNone, dkimAligned: true},
		{name: "unaligned temperror is a fail", from: "example.com", spf: SPFResult{Domain: "example.org", Result: "temperror"},
			result: Fail, policy: PolicyReject, tag: "p", disposition: PolicyReject},
		{name: "no record", from: "example.org", spf: spfPass("example.org"), result: None, disposition: PolicyNone},
		{name: "dns failure", from: "tempfail.test", result: TempError, disposition: PolicyNone},
		{name: "unusable record", from: "perm.test", result: PermError, disposition: PolicyNone},
		{name: "invalid From", from: "-bad-.example..com", result: PermError, disposition: PolicyNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sampled := false
			c := &Checker{Resolver: checkResolver(), Sample: func() int { sampled = true; return tc.sample }}
			o, err := c.Check(context.Background(), tc.from, tc.spf, tc.dkim)
			assert.Equal(t, tc.result, o.Result)
			assert.Equal(t, tc.policy, o.Policy)
			assert.Equal(t, tc.tag, o.PolicyTag)
			assert.Equal(t, tc.disposition, o.Disposition)
			assert.Equal(t, tc.spfAligned, o.SPFAligned)
			assert.Equal(t, tc.dkimAligned, o.DKIMAligned)
			assert.Equal(t, tc.nonexistent, o.Nonexistent)
			assert.Equal(t, tc.disposition != tc.policy && tc.result == Fail, o.SampledOut)
			assert.Equal(t, strings.HasPrefix(tc.from, "pct"), sampled, "sampling only under pct<100")
			switch tc.result {
			case TempError, PermError:
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tc.result, e.Result)
				assert.Same(t, o.Err, err)
			case None:
				require.NoError(t, err)
				assert.ErrorIs(t, o.Err, ErrNoRecord)
			default:
				require.NoError(t, err)
				require.NotNil(t, o.Record)
			}
		})
	}
}

func TestCheckDKIMDomainAndRecordErr(t *testing.T) {
	o, err := Check(context.Background(), checkResolver(), "badpct.test", SPFResult{},
		[]DKIMResult{{Domain: "Mail.BadPct.Test.", Result: "PASS"}})
	require.NoError(t, err)
	assert.Equal(t, Pass, o.Result)
	assert.Equal(t, "mail.badpct.test", o.DKIMDomain)
	assert.Equal(t, "badpct.test", o.RecordDomain)
	assert.Equal(t, "badpct.test", o.OrgDomain)
	var se *SyntaxError
	require.ErrorAs(t, o.RecordErr, &se)
	assert.Equal(t, "pct", se.Tag)
}

func TestAuthResult(t *testing.T) {
	c := &Checker{Resolver: checkResolver(), Sample: func() int { return 50 }}
	o, _ := c.Check(context.Background(), "pct.test", SPFResult{}, nil)
	ar := o.AuthResult()
	assert.Equal(t, "dmarc", ar.Method)
	assert.Equal(t, "fail", ar.Value)
	assert.Equal(t, "p=reject dis=quarantine", ar.Comment)
	v, ok := ar.Get("header", "from")
	assert.True(t, ok)
	assert.Equal(t, "pct.test", v)

	o, _ = c.Check(context.Background(), "example.org", SPFResult{}, nil)
	ar = o.AuthResult()
	assert.Equal(t, "none", ar.Value)
	assert.Empty(t, ar.Comment)
}

// Discovery and the existence check against a real DNS server in the
// process (dnsmxtest), through Go's own resolver.
func TestCheckDNSServer(t *testing.T) {
	srv := dnsmxtest.NewServer(t, dnsmxtest.Zone{
		"_dmarc.example.test": {dnsmxtest.TXT("v=DMARC1; ", "p=reject; sp=quarantine; np=reject")},
		"mail.example.test":   {dnsmxtest.A("192.0.2.25")},
		"_dmarc.multi.test":   {dnsmxtest.TXT("v=DMARC1; p=none"), dnsmxtest.TXT("v=DMARC1; p=reject")},
		"_dmarc.fail.test":    {dnsmxtest.ServFail()},
	})
	c := &Checker{Resolver: srv.Resolver()}
	ctx := context.Background()
	for _, tc := range []struct {
		from   string
		result Result
		policy Policy
	}{
		{"example.test", Fail, PolicyReject},
		{"mail.example.test", Fail, PolicyQuarantine},
		{"ghost.example.test", Fail, PolicyReject},
		{"multi.test", None, ""},
		{"fail.test", TempError, ""},
	} {
		o, _ := c.Check(ctx, tc.from, SPFResult{Domain: "other.test", Result: "pass"}, nil)
		assert.Equal(t, tc.result, o.Result, tc.from)
		assert.Equal(t, tc.policy, o.Policy, tc.from)
	}
	o, err := c.Check(ctx, "a.b.example.test", SPFResult{}, []DKIMResult{{Domain: "example.test", Result: "pass"}})
	require.NoError(t, err)
	assert.Equal(t, Pass, o.Result)
	assert.Equal(t, "example.test", o.RecordDomain)
}
