package dmarc_test

import (
	"context"
	"fmt"

	"github.com/mailwire/mailwire/auth/authres"
	"github.com/mailwire/mailwire/auth/dmarc"
	"github.com/mailwire/mailwire/dnsmx/dnsmxtest"
)

func ExampleChecker_Check() {
	// A DNS server for the example; a real receiver leaves Resolver nil
	// or puts a dnsmx.Cache there.
	srv := &dnsmxtest.Server{Zone: dnsmxtest.Zone{
		"_dmarc.example.com": {dnsmxtest.TXT("v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com")},
		"news.example.com":   {dnsmxtest.A("192.0.2.80")},
	}}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	c := &dmarc.Checker{Resolver: srv.Resolver()}
	ctx := context.Background()

	// SPF passed for the bounce domain, DKIM for a subdomain: both
	// align with example.com in relaxed mode.
	o, err := c.Check(ctx, "example.com",
		dmarc.SPFResult{Domain: "bounces.example.com", Result: "pass"},
		[]dmarc.DKIMResult{{Domain: "mail.example.com", Result: "pass"}})
	fmt.Println(o.Result, o.SPFAligned, o.DKIMAligned, err)

	// Only a third party's signature passed: fail, and the subdomain
	// policy applies to news.example.com.
	o, _ = c.Check(ctx, "news.example.com",
		dmarc.SPFResult{Domain: "esp.example.net", Result: "pass"},
		[]dmarc.DKIMResult{{Domain: "esp.example.net", Result: "pass"}})
	fmt.Println(o.Result, o.PolicyTag, o.Policy, o.Disposition)

	ar := &authres.Results{AuthServID: "mx.example.org", Results: []authres.Result{o.AuthResult()}}
	fmt.Println(ar.String())
	// Output:
	// pass true true <nil>
	// fail sp quarantine quarantine
	// mx.example.org; dmarc=fail (sp=quarantine dis=quarantine) header.from=news.example.com
}

func ExampleParseRecord() {
	rec, err := dmarc.ParseRecord("v=DMARC1; p=quarantine; rua=mailto:agg@example.com!10m; pct=25; adkim=s")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.Policy, rec.Percent, rec.DKIMAlignment, rec.AggregateURIs[0].URI, rec.AggregateURIs[0].MaxSize)
	fmt.Println(rec)
	// Output:
	// quarantine 25 s mailto:agg@example.com 10485760
	// v=DMARC1; p=quarantine; adkim=s; pct=25; rua=mailto:agg@example.com!10m
}
