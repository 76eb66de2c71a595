package spf

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FuzzSPF dispatches on the first byte: 0 parses a record and checks that
// its canonical form parses to itself; 1 parses and expands a
// macro-string, as a domain-spec and as an explanation; 2 evaluates a
// record served by a fake resolver.
func FuzzSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 -all",
		"v=spf1 a/24//64 mx:example.com ~ptr ?exists:%{ir}.bl.example.org ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.com redirect=%{d2} exp=exp.%{d} foo=%{l}",
		"v=spf1 a:foo:bar/baz.example.com -all",
		"v=spf1 include:example.com",
		"v=spf1 exists:%{l1r-}.%{i}.%{v}.%{p}._spf.%{d} ptr:%{o}",
		"v=spf1 ip4:1.2.3.4/33",
	} {
		f.Add(byte(0), s)
		f.Add(byte(2), s)
	}
	for _, s := range []string{"%{ir}.%{v}._spf.%{d2}", "%{L2r-+,}%%%_%-", "%{c} %{r} %{t} %{p}", "%{d0}", "%"} {
		f.Add(byte(1), s)
	}
	f.Fuzz(func(t *testing.T, kind byte, s string) {
		switch kind % 3 {
		case 0:
			r, err := ParseRecord(s)
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(s) {
					t.Fatalf("bad error for %q: %v", s, err)
				}
				return
			}
			canon := r.String()
			r2, err := ParseRecord(canon)
			if err != nil {
				t.Fatalf("canonical form %q of %q does not parse: %v", canon, s, err)
			}
			if r2.String() != canon {
				t.Fatalf("canonical form not stable: %q then %q", canon, r2.String())
			}
		case 1:
			st := macroState("2001:db8::cb01")
			for _, k := range []macroKind{domainMacro, explainMacro} {
				ms, off, msg := parseMacro(s, k)
				if msg != "" {
					if off < 0 || off > len(s) {
						t.Fatalf("offset %d out of %q", off, s)
					}
					continue
				}
				if ms.String() != s {
					t.Fatalf("String %q != %q", ms.String(), s)
				}
				if _, err := ms.expand(&env{s: st, domain: "example.com", explain: k == explainMacro}); err != nil {
					t.Fatalf("expand %q: %v", s, err)
				}
			}
		case 2:
			z := zoneFrom(t, map[string][]interface{}{
				"example.com":    {map[string]interface{}{"TXT": s}, map[string]interface{}{"A": "192.0.2.1"}, map[string]interface{}{"MX": []interface{}{10, "mx.example.com"}}},
				"mx.example.com": {map[string]interface{}{"A": "192.0.2.2"}},
			})
			c := &Checker{Resolver: fakeResolver{z}, Timeout: time.Second, MaxLookups: -1, MaxVoidLookups: -1}
			o, err := c.CheckHost(context.Background(), netip.MustParseAddr("192.0.2.2"), "example.com", "a@example.com", "h.example.com")
			if (err != nil) != (o.Result == TempError || o.Result == PermError) {
				t.Fatalf("result %s with error %v", o.Result, err)
			}
			if v := o.ReceivedSPF(); strings.ContainsAny(v, "\r\n") {
				t.Fatalf("Received-SPF with line break: %q", v)
			}
		}
	})
}
