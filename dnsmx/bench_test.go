package dnsmx

import (
	"context"
	"testing"

	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

func BenchmarkNormalize(b *testing.B) {
	for _, d := range []string{"Mail.Example.COM", "bücher.example", "xn--bcher-kva.example"} {
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				if _, err := Normalize(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLocate measures Locate's own work: answers come from a warm Cache.
func BenchmarkLocate(b *testing.B) {
	srv := dnsmxtest.NewServer(b, zone)
	l := Locator{Resolver: &Cache{Resolver: srv.Resolver()}}
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Locate(ctx, "equal.test"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocateDNS includes the queries to dnsmxtest over loopback UDP.
func BenchmarkLocateDNS(b *testing.B) {
	srv := dnsmxtest.NewServer(b, zone)
	l := Locator{Resolver: srv.Resolver()}
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Locate(ctx, "sorted.test"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupMX compares one MX query over loopback UDP through StubResolver
// and through Go's resolver.
func BenchmarkLookupMX(b *testing.B) {
	srv := dnsmxtest.NewServer(b, zone)
	ctx := context.Background()
	for _, r := range []struct {
		name string
		r    Resolver
	}{
		{"client", &StubResolver{Servers: []string{srv.Addr()}}},
		{"net.Resolver", srv.Resolver()},
	} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.r.LookupMX(ctx, "sorted.test."); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
