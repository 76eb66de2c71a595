package spf_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/mailwire/mailwire/auth/spf"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

func ExampleChecker_CheckMailFrom() {
	// A DNS server for the example; a real receiver leaves Resolver nil
	// or puts a dnsmx.Cache there.
	srv := &dnsmxtest.Server{Zone: dnsmxtest.Zone{
		"example.com": {
			dnsmxtest.MX(10, "mx.example.com"),
			dnsmxtest.TXT("v=spf1 mx ip4:192.0.2.0/24 -all exp=why.example.com"),
		},
		"mx.example.com":  {dnsmxtest.A("198.51.100.25")},
		"why.example.com": {dnsmxtest.TXT("%{i} is not a mail server of %{d}")},
	}}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	c := &spf.Checker{Resolver: srv.Resolver(), Hostname: "mx.example.org", Timeout: 5 * time.Second}
	ctx := context.Background()

	o, err := c.CheckMailFrom(ctx, netip.MustParseAddr("198.51.100.25"), "alice@example.com", "mx.example.com")
	fmt.Println(o.Result, o.Mechanism, err)

	o, _ = c.CheckMailFrom(ctx, netip.MustParseAddr("203.0.113.7"), "alice@example.com", "spammer.example")
	fmt.Println(o.Result, o.Explanation)
	fmt.Println("Received-SPF:", o.ReceivedSPF())
	// Output:
	// pass mx <nil>
	// fail 203.0.113.7 is not a mail server of example.com
	// Received-SPF: fail (mx.example.org: domain of alice@example.com does not designate 203.0.113.7 as permitted sender) receiver=mx.example.org; client-ip=203.0.113.7; envelope-from="alice@example.com"; helo=spammer.example; identity=mailfrom; mechanism=-all
}

func ExampleParseRecord() {
	r, err := spf.ParseRecord("v=spf1 a:mail.example.com/24 include:_spf.example.net ~all")
	fmt.Println(err)
	for _, m := range r.Mechanisms() {
		fmt.Println(m.Kind, m.Qualifier.Result(), m.Domain, m.CIDR4)
	}
	_, err = spf.ParseRecord("v=spf1 ip4:192.0.2.300 -all")
	fmt.Println(err)
	// Output:
	// <nil>
	// a pass mail.example.com 24
	// include pass _spf.example.net 32
	// all softfail  32
	// spf: syntax error at offset 11 in term "ip4:192.0.2.300": invalid ip4-network "192.0.2.300"
}
