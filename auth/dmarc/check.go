package dmarc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/mailwire/mailwire/dnsmx"
)

// Result is the outcome of a DMARC check, named as in
// Authentication-Results (RFC 7489 §11.2).
type Result string

// The results.
const (
	None      Result = "none"      // no DMARC record: no policy applies
	Pass      Result = "pass"      // an aligned identifier passed SPF or DKIM
	Fail      Result = "fail"      // no aligned identifier passed
	TempError Result = "temperror" // DNS failure, or an aligned check failed temporarily
	PermError Result = "permerror" // an unusable record, or an unusable From domain
)

// Sentinel errors, found wrapped in an *Error. Test with errors.Is.
var (
	// ErrNoRecord: neither the From domain nor its Organizational
	// Domain publishes a DMARC record (RFC 7489 §6.6.3 step 5). None.
	ErrNoRecord = errors.New("dmarc: no DMARC record")
	// ErrMultipleRecords: the name queried holds more than one DMARC
	// record (RFC 7489 §6.6.3 step 5). None.
	ErrMultipleRecords = errors.New("dmarc: more than one DMARC record")
	// ErrInvalidDomain: the From domain is not a valid domain name.
	// PermError.
	ErrInvalidDomain = errors.New("dmarc: invalid From domain")
	// ErrDNS: a TXT query failed temporarily (SERVFAIL, timeout,
	// REFUSED). TempError; the resolver's error is wrapped too.
	ErrDNS = errors.New("dmarc: DNS lookup failed")
	// ErrAuthTemporary: no aligned identifier passed and an aligned
	// one's SPF or DKIM check ended in temperror (RFC 7489 §6.6.2), so
	// the policy cannot be applied. TempError.
	ErrAuthTemporary = errors.New("dmarc: authentication of an aligned identifier failed temporarily")
)

// Error explains a None, TempError or PermError outcome. Err is a
// sentinel above or a *SyntaxError; errors.Is and errors.As see through
// to the resolver's error as well.
type Error struct {
	Result Result
	Domain string // the domain being looked up or checked
	Err    error
	dnsErr error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%v (%s, domain %s)", e.Err, e.Result, e.Domain)
	if e.dnsErr != nil {
		s += ": " + e.dnsErr.Error()
	}
	return s
}

// Unwrap returns Err and the resolver's error, if any.
func (e *Error) Unwrap() []error {
	if e.dnsErr != nil {
		return []error{e.Err, e.dnsErr}
	}
	return []error{e.Err}
}

// Temporary reports whether the check may succeed later.
func (e *Error) Temporary() bool { return e.Result == TempError }

// SPFResult is the outcome of the SPF check of the message (RFC 7489
// §6.6.2 step 4): the domain checked (the RFC5321.MailFrom domain, or
// the HELO name for a null reverse-path) and the result as auth/spf names
// it ("pass", "fail", "softfail", "neutral", "none", "temperror",
// "permerror"). From an spf.Outcome o:
//
//	dmarc.SPFResult{Domain: o.Domain, Result: string(o.Result)}
type SPFResult struct {
	Domain string
	Result string
}

// DKIMResult is the outcome of verifying one DKIM signature (RFC 7489
// §6.6.2 step 3): its d= domain, its selector (for reports), and the
// status as auth/dkim names it ("pass", "fail", "neutral", "temperror",
// "permerror", ...). From a *dkim.Result r:
//
//	dmarc.DKIMResult{Domain: r.Domain(), Result: string(r.Status)}
type DKIMResult struct {
	Domain   string
	Selector string
	Result   string
}

// Outcome is what a check found.
type Outcome struct {
	Result Result
	// Domain is the From domain as checked: lower case, A-labels.
	Domain string
	// OrgDomain is its Organizational Domain (RFC 7489 §3.2).
	OrgDomain string
	// Record is the policy record found, nil when none was; RecordDomain
	// is the domain whose _dmarc name held it (Domain or OrgDomain).
	Record       *Record
	RecordDomain string
	// RecordErr is the non-fatal *SyntaxError of the record, if any:
	// tags that were wrong and replaced by their defaults.
	RecordErr error
	// Policy is the policy the Domain Owner requests for Domain: p, sp,
	// or np for a non-existent subdomain (RFC 9091), as PolicyTag
	// says; empty when there is no record. np is only considered, and
	// the existence of Domain only queried, for a Fail result.
	Policy    Policy
	PolicyTag string
	// Disposition is what to do with this message: PolicyNone unless
	// the result is Fail; then Policy, weakened by one step when pct
	// sampling left the message out (RFC 7489 §6.6.4).
	Disposition Policy
	// SampledOut is set when pct kept Policy from being applied
	// (reported as "sampled_out").
	SampledOut bool
	// Nonexistent is set when Domain was found not to exist (NXDOMAIN
	// or no data for MX, A and AAAA, RFC 9091 §2.1).
	Nonexistent bool
	// SPFAligned is set when SPF passed for a domain aligned with
	// Domain; DKIMAligned when a DKIM signature passed whose d= is
	// aligned, DKIMDomain being the first such d=.
	SPFAligned  bool
	DKIMAligned bool
	DKIMDomain  string
	// Err explains None, TempError and PermError results; it is an
	// *Error.
	Err error
}

// Checker evaluates DMARC (RFC 7489 §6.6). The zero Checker uses
// net.DefaultResolver and math/rand/v2 for pct sampling; it is safe for
// concurrent use once its fields are set (and Sample is).
type Checker struct {
	// Resolver answers the DNS queries; nil means net.DefaultResolver.
	Resolver dnsmx.Resolver
	// Sample returns a number from 0 to 99; a message is subject to
	// the policy when it is below pct (RFC 7489 §6.3). nil means
	// rand.IntN(100). Tests set it to make sampling deterministic.
	Sample func() int
}

// Check evaluates DMARC with a zero Checker using r.
func Check(ctx context.Context, r dnsmx.Resolver, fromDomain string, spf SPFResult, dkim []DKIMResult) (Outcome, error) {
	c := &Checker{Resolver: r}
	return c.Check(ctx, fromDomain, spf, dkim)
}

// Check evaluates DMARC for a message whose RFC5322.From domain is
// fromDomain (RFC 7489 §6.6.1: the caller extracts it, and handles
// messages with several From domains or none) given the results of SPF
// and of DKIM verification: it discovers the policy (§6.6.3), checks
// identifier alignment (§3.1) and chooses the disposition (§6.6.2,
// §6.6.4, RFC 9091).
//
// The error is nil unless the result is TempError or PermError; it is
// then the *Error also in Outcome.Err.
func (c *Checker) Check(ctx context.Context, fromDomain string, spf SPFResult, dkim []DKIMResult) (Outcome, error) {
	o := Outcome{Disposition: PolicyNone}
	d, err := normalize(fromDomain)
	if err != nil {
		o.Result = PermError
		o.Domain = fromDomain
		o.Err = &Error{Result: PermError, Domain: fromDomain, Err: ErrInvalidDomain, dnsErr: err}
		return o, o.Err
	}
	o.Domain = d
	o.OrgDomain = OrganizationalDomain(d)

	rec, at, err := c.lookup(ctx, d, o.OrgDomain)
	o.Record, o.RecordDomain = rec, at
	if rec == nil {
		o.Result = None
		var e *Error
		if errors.As(err, &e) {
			o.Result = e.Result
		}
		o.Err = err
		if o.Result == None {
			return o, nil
		}
		return o, err
	}
	o.RecordErr = err

	// RFC 7489 §3.1: alignment of the authenticated identifiers.
	if strings.EqualFold(spf.Result, "pass") && Aligned(rec.SPFAlignment, spf.Domain, d) {
		o.SPFAligned = true
	}
	for _, r := range dkim {
		if strings.EqualFold(r.Result, "pass") && Aligned(rec.DKIMAlignment, r.Domain, d) {
			o.DKIMAligned = true
			o.DKIMDomain = strings.ToLower(strings.TrimSuffix(r.Domain, "."))
			break
		}
	}
	o.Policy, o.PolicyTag = rec.Policy, "p"
	if at != d && rec.SubdomainPolicy != "" {
		o.Policy, o.PolicyTag = rec.SubdomainPolicy, "sp"
	}
	switch {
	case o.SPFAligned || o.DKIMAligned:
		o.Result = Pass
		return o, nil
	case c.alignedTempError(rec, d, spf, dkim):
		// RFC 7489 §6.6.2: the policy cannot be applied.
		o.Result = TempError
		o.Err = &Error{Result: TempError, Domain: d, Err: ErrAuthTemporary}
		return o, o.Err
	}
	o.Result = Fail

	// RFC 9091 §4.2: np for a From domain below the Organizational
	// Domain that does not exist.
	if at != d && rec.NonexistentPolicy != "" && rec.NonexistentPolicy != o.Policy && c.nonexistent(ctx, d) {
		o.Nonexistent = true
		o.Policy, o.PolicyTag = rec.NonexistentPolicy, "np"
	}
	o.Disposition = o.Policy
	// RFC 7489 §6.6.4: apply the policy to pct percent of the messages;
	// the others get the next weaker treatment.
	if o.Policy != PolicyNone && rec.Percent < 100 && c.sample() >= rec.Percent {
		o.SampledOut = true
		if o.Policy == PolicyReject {
			o.Disposition = PolicyQuarantine
		} else {
			o.Disposition = PolicyNone
		}
	}
	return o, nil
}

// alignedTempError reports whether an identifier that would be aligned
// had a temperror result.
func (c *Checker) alignedTempError(rec *Record, d string, spf SPFResult, dkim []DKIMResult) bool {
	if strings.EqualFold(spf.Result, "temperror") && Aligned(rec.SPFAlignment, spf.Domain, d) {
		return true
	}
	for _, r := range dkim {
		if strings.EqualFold(r.Result, "temperror") && Aligned(rec.DKIMAlignment, r.Domain, d) {
			return true
		}
	}
	return false
}

func (c *Checker) sample() int {
	if c.Sample != nil {
		return c.Sample()
	}
	return rand.IntN(100)
}

func (c *Checker) resolver() dnsmx.Resolver {
	if c.Resolver != nil {
		return c.Resolver
	}
	return net.DefaultResolver
}

// nonexistent reports whether d has neither MX nor address records
// (RFC 9091 §2.1). A query that fails otherwise counts as existence,
// so a DNS failure never selects np.
func (c *Checker) nonexistent(ctx context.Context, d string) bool {
	r := c.resolver()
	if _, err := r.LookupMX(ctx, d+"."); !isNotFound(err) {
		return false
	}
	_, err := r.LookupNetIP(ctx, "ip", d+".")
	return isNotFound(err)
}

// Lookup discovers the DMARC record for a From domain (RFC 7489 §6.6.3):
// the TXT records at _dmarc.<domain> that start with v=DMARC1, or if
// there are none, those at _dmarc.<Organizational Domain>. It returns the
// record and the domain whose _dmarc name held it.
//
// The error is an *Error wrapping ErrNoRecord or ErrMultipleRecords
// (Result None), ErrDNS (TempError) or ErrInvalidDomain, or a
// *SyntaxError from ParseRecord: with a nil Record (Result PermError,
// wrapped in an *Error) when the record is unusable, with a non-nil one
// (not wrapped) when only optional tags were wrong.
func Lookup(ctx context.Context, r dnsmx.Resolver, fromDomain string) (*Record, string, error) {
	d, err := normalize(fromDomain)
	if err != nil {
		return nil, "", &Error{Result: PermError, Domain: fromDomain, Err: ErrInvalidDomain, dnsErr: err}
	}
	c := &Checker{Resolver: r}
	return c.lookup(ctx, d, OrganizationalDomain(d))
}

func (c *Checker) lookup(ctx context.Context, d, org string) (*Record, string, error) {
	txt, err := c.records(ctx, d)
	if err != nil {
		return nil, "", err
	}
	at := d
	if len(txt) == 0 && org != d {
		at = org
		if txt, err = c.records(ctx, org); err != nil {
			return nil, "", err
		}
	}
	switch len(txt) {
	case 0:
		return nil, "", &Error{Result: None, Domain: d, Err: ErrNoRecord}
	case 1:
	default:
		return nil, "", &Error{Result: None, Domain: at, Err: ErrMultipleRecords}
	}
	rec, err := ParseRecord(txt[0])
	if rec == nil {
		return nil, "", &Error{Result: PermError, Domain: at, Err: err}
	}
	return rec, at, err
}

// records returns the DMARC records at _dmarc.<domain>.
func (c *Checker) records(ctx context.Context, domain string) ([]string, error) {
	txts, err := c.resolver().LookupTXT(ctx, "_dmarc."+domain+".")
	if err != nil && !isNotFound(err) {
		return nil, &Error{Result: TempError, Domain: domain, Err: ErrDNS, dnsErr: err}
	}
	var out []string
	for _, t := range txts {
		if IsRecord(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// OrganizationalDomain returns the Organizational Domain of domain (RFC
// 7489 §3.2): the public suffix (from golang.org/x/net/publicsuffix)
// plus one label. A domain that is itself a public suffix, or that is
// not a valid name, is returned as it is (lower case, without a final
// dot).
func OrganizationalDomain(domain string) string {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// Aligned reports whether an authenticated domain (an SPF-checked domain
// or a DKIM d=) is aligned with the From domain in the given mode (RFC
// 7489 §3.1): equal in Strict mode; with the same Organizational Domain
// in Relaxed mode (or an empty mode). Names compare case-insensitively,
// U-labels as their A-labels; a public suffix aligns only with itself.
func Aligned(mode AlignMode, authenticated, from string) bool {
	a, err1 := normalize(authenticated)
	f, err2 := normalize(from)
	if err1 != nil || err2 != nil {
		return false
	}
	if a == f {
		return true
	}
	if mode == Strict {
		return false
	}
	oa, err1 := publicsuffix.EffectiveTLDPlusOne(a)
	of, err2 := publicsuffix.EffectiveTLDPlusOne(f)
	return err1 == nil && err2 == nil && oa == of
}

func normalize(domain string) (string, error) {
	return dnsmx.Normalize(strings.TrimSuffix(domain, "."))
}
