// Package dmarc evaluates Domain-based Message Authentication, Reporting,
// and Conformance (DMARC, RFC 7489): whether a message's RFC5322.From
// domain is authenticated by an aligned SPF or DKIM result, and what
// the domain's owner asks receivers to do when it is not.
//
// The caller runs SPF (package auth/spf) and DKIM (package auth/dkim),
// extracts the From domain, and passes the results as plain values:
//
//	c := &dmarc.Checker{Resolver: &dnsmx.Cache{}}
//	o, err := c.Check(ctx, fromDomain,
//		dmarc.SPFResult{Domain: spfOutcome.Domain, Result: string(spfOutcome.Result)},
//		[]dmarc.DKIMResult{{Domain: r.Domain(), Result: string(r.Status)}})
//	// o.Result is pass, fail, none, temperror or permerror;
//	// o.Disposition is none, quarantine or reject.
//	ar.Results = append(ar.Results, o.AuthResult()) // Authentication-Results
//
// # What is implemented
//
//   - Records (RFC 7489 §6.3, §6.4): ParseRecord reads v, p, sp, adkim,
//     aspf, pct, rua and ruf (URIs with "!size" suffixes, §6.2), fo, rf
//     and ri, and np (RFC 9091 §4.1, the policy for non-existent
//     subdomains); unknown tags are ignored. Errors are *SyntaxError
//     with the tag and offset. Errors in optional tags leave their
//     defaults and the record usable (§6.3); a missing or invalid p (or
//     an invalid sp) with a valid rua gives p=none (§6.6.3 step 6).
//     Record.String writes a record back.
//   - Policy discovery (§6.6.3): TXT records at _dmarc.<From domain>
//     that start with v=DMARC1, else at _dmarc.<Organizational Domain>;
//     none or several is no policy (None); a DNS failure other than
//     NXDOMAIN or no data is TempError.
//   - Organizational Domains (§3.2) from the public suffix list of
//     golang.org/x/net/publicsuffix (ICANN and private sections), and
//     identifier alignment, strict and relaxed, for SPF and DKIM (§3.1).
//   - Evaluation (§6.6.2): pass when an aligned identifier passed;
//     temperror when none passed and an aligned one's check ended in
//     temperror; fail otherwise. The policy is p for the domain that
//     published the record, sp for its subdomains, and np for a
//     subdomain that does not exist. Non-existence follows RFC 9091
//     §2.1: the From domain's MX query and its address (A and AAAA)
//     query both answer NXDOMAIN or no data; any other error counts as
//     existence, so a DNS failure never selects np. pct sampling
//     (§6.6.4) through Checker.Sample: a message left out gets
//     quarantine instead of reject, and no action instead of
//     quarantine.
//   - Aggregate reports (§7.2, Appendix C): Feedback and the types below
//     it marshal and unmarshal with encoding/xml under the schema's
//     element names; ParseReport bounds its input. Record.PolicyPublished
//     and Outcome.PolicyEvaluated fill report elements.
//   - Outcome.AuthResult gives the dmarc resinfo for package
//     auth/authres (RFC 7489 §11.2).
//
// # What is not
//
// Sending aggregate reports (collection, scheduling, mailto delivery,
// compression) and the verification of external report destinations
// (§7.1); failure reports (§7.3, RFC 6591); extracting the From domain
// from a message and the handling of several From domains (§6.6.1);
// local policy overrides (forwarders, mailing lists, ARC); the DMARCbis
// tree walk and psd= tag, which replace the public suffix list in later
// drafts. The public suffix list is the one compiled into
// golang.org/x/net; there is no way to load a newer one.
package dmarc
