package spf

import (
	"context"
	"net/netip"
	"testing"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// BenchmarkSPF checks a sender whose policy includes another domain and
// matches on an mx mechanism there, against dnsmxtest over the loopback,
// through Go's resolver: about six queries a check.
func BenchmarkSPF(b *testing.B) {
	srv := dnsmxtest.NewServer(b, dnsmxtest.Zone{
		"example.com":      {dnsmxtest.TXT("v=spf1 ip4:198.51.100.0/24 include:_spf.example.net -all")},
		"_spf.example.net": {dnsmxtest.TXT("v=spf1 a:out.example.net mx -all"), dnsmxtest.MX(10, "mx.example.net")},
		"out.example.net":  {dnsmxtest.A("203.0.113.1")},
		"mx.example.net":   {dnsmxtest.A("192.0.2.25")},
	})
	c := &Checker{Resolver: srv.Resolver()}
	ip := netip.MustParseAddr("192.0.2.25")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		o, err := c.CheckMailFrom(ctx, ip, "alice@example.com", "mx.example.net")
		if err != nil || o.Result != Pass {
			b.Fatalf("%s %v", o.Result, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
