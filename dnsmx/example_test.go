package dnsmx_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/mailwire/mailwire/dnsmx"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

// startServer starts a DNS server with a small zone; tests use
// dnsmxtest.NewServer(t, zone) instead, which stops it when the test ends.
func startServer() *dnsmxtest.Server {
	srv := &dnsmxtest.Server{Zone: dnsmxtest.Zone{
		"example.test": {
			dnsmxtest.MX(20, "backup.example.test"),
			dnsmxtest.MX(10, "mx.example.test"),
		},
		"mx.example.test":     {dnsmxtest.A("192.0.2.25"), dnsmxtest.AAAA("2001:db8::25")},
		"backup.example.test": {dnsmxtest.A("192.0.2.26")},
		"nomail.test":         {dnsmxtest.MX(0, ".")},
		"broken.test":         {dnsmxtest.ServFail()},
		"xn--bcher-kva.test":  {dnsmxtest.A("192.0.2.80")},
	}}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	return srv
}

func ExampleLocator_Locate() {
	srv := startServer()
	defer srv.Close()

	l := dnsmx.Locator{Resolver: srv.Resolver()}
	hosts, err := l.Locate(context.Background(), "example.test")
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hosts {
		fmt.Println(h.Pref, h.Name, h.Addrs)
	}
	// Output:
	// 10 mx.example.test [2001:db8::25 192.0.2.25]
	// 20 backup.example.test [192.0.2.26]
}

func ExampleLocator_Locate_errors() {
	srv := startServer()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l := dnsmx.Locator{Resolver: srv.Resolver()}
	for _, domain := range []string{"nomail.test", "broken.test", "missing.test", "bad..name"} {
		_, err := l.Locate(ctx, domain)
		switch {
		case errors.Is(err, dnsmx.ErrNullMX):
			fmt.Println(domain, "accepts no mail: bounce with 556 5.1.10")
		case dnsmx.IsTemporary(err):
			fmt.Println(domain, "failed for now: retry later")
		default:
			fmt.Println(domain, "bounce:", errors.Is(err, dnsmx.ErrNoSuchDomain), errors.Is(err, dnsmx.ErrInvalidDomain))
		}
	}
	// Output:
	// nomail.test accepts no mail: bounce with 556 5.1.10
	// broken.test failed for now: retry later
	// missing.test bounce: true false
	// bad..name bounce: false true
}

func ExampleLocator_Locate_implicitAndLiteral() {
	srv := startServer()
	defer srv.Close()

	l := dnsmx.Locator{Resolver: srv.Resolver(), Family: dnsmx.IPv4Only}
	for _, domain := range []string{"bücher.test", "[IPv6:2001:db8::1]", "[192.0.2.7]"} {
		hosts, err := l.Locate(context.Background(), domain)
		if err != nil {
			fmt.Println(domain, err)
			continue
		}
		fmt.Println(domain, hosts[0].Name, hosts[0].Implicit, hosts[0].Literal, hosts[0].Addrs)
	}
	// Output:
	// bücher.test xn--bcher-kva.test true false [192.0.2.80]
	// [IPv6:2001:db8::1] dnsmx: [IPv6:2001:db8::1]: no mail exchanger has a usable address: address family not enabled
	// [192.0.2.7] [192.0.2.7] false true [192.0.2.7]
}

func ExampleLocator_localNames() {
	srv := startServer()
	defer srv.Close()

	// Running on the backup MX: only better exchangers are left.
	l := dnsmx.Locator{Resolver: srv.Resolver(), LocalNames: []string{"backup.example.test"}}
	hosts, _ := l.Locate(context.Background(), "example.test")
	fmt.Println(len(hosts), hosts[0].Name)

	// Running on the primary: relaying would loop.
	l.LocalNames = []string{"mx.example.test"}
	_, err := l.Locate(context.Background(), "example.test")
	fmt.Println(errors.Is(err, dnsmx.ErrLoop), dnsmx.IsTemporary(err))
	// Output:
	// 1 mx.example.test
	// true false
}

func ExampleCache() {
	srv := startServer()
	defer srv.Close()

	cache := &dnsmx.Cache{Resolver: srv.Resolver(), TTL: time.Minute, MaxEntries: 1000}
	l := dnsmx.Locator{Resolver: cache}
	for range 3 {
		if _, err := l.Locate(context.Background(), "example.test"); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(srv.Queries("example.test", dnsmessage.TypeMX), cache.Len())
	// Output: 1 3
}

func ExampleStubResolver() {
	srv := &dnsmxtest.Server{Zone: dnsmxtest.Zone{
		"example.test": {
			dnsmxtest.SOA("ns.example.test", "hostmaster.example.test", 60),
			dnsmxtest.MX(10, "mx.example.test").WithTTL(3600),
		},
		"mx.example.test": {dnsmxtest.A("192.0.2.25").WithTTL(600)},
	}}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The zero StubResolver asks the servers of /etc/resolv.conf.
	c := &dnsmx.StubResolver{Servers: []string{srv.Addr()}}
	ctx := context.Background()
	mxs, ttl, err := c.LookupMXTTL(ctx, "example.test")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mxs[0].Host, mxs[0].Pref, ttl)
	_, ttl, err = c.LookupMXTTL(ctx, "nothing.example.test")
	fmt.Println(dnsmx.IsTemporary(err), ttl) // negative TTL from the SOA

	// A Cache over a StubResolver keeps answers as long as their TTLs say.
	l := dnsmx.Locator{Resolver: &dnsmx.Cache{Resolver: c}}
	hosts, err := l.Locate(ctx, "example.test")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hosts[0].Name, hosts[0].Addrs)
	// Output:
	// mx.example.test. 10 1h0m0s
	// false 1m0s
	// mx.example.test [192.0.2.25]
}

func ExampleNormalize() {
	for _, d := range []string{"Example.COM.", "Bücher.example", "例え.テスト", "bad_name.example"} {
		n, err := dnsmx.Normalize(d)
		fmt.Println(n, err != nil)
	}
	// Output:
	// example.com false
	// xn--bcher-kva.example false
	// xn--r8jz45g.xn--zckzah false
	//  true
}

func ExampleParseLiteral() {
	a, err := dnsmx.ParseLiteral("[IPv6:2001:DB8:0::1]")
	fmt.Println(a, err, dnsmx.FormatLiteral(a))
	// Output: 2001:db8::1 <nil> [IPv6:2001:db8::1]
}
