package spf

import (
	"errors"
	"net/netip"
)

// Result is the outcome of check_host (RFC 7208 §2.6).
type Result string

// The results of RFC 7208 §2.6.
const (
	None      Result = "none"      // no usable domain, or no SPF record
	Neutral   Result = "neutral"   // the domain asserts nothing about the client
	Pass      Result = "pass"      // the client is authorized
	Fail      Result = "fail"      // the client is not authorized
	SoftFail  Result = "softfail"  // probably not authorized
	TempError Result = "temperror" // a transient (DNS) error
	PermError Result = "permerror" // the records could not be interpreted
)

// Identity names the identity that was checked (RFC 7208 §9.1).
type Identity string

// The identities of RFC 7208 §2.3 and §2.4.
const (
	IdentityMailFrom Identity = "mailfrom"
	IdentityHelo     Identity = "helo"
)

// Outcome is what a check found.
type Outcome struct {
	Result Result
	// Explanation is set for Fail: the expanded exp= text of the
	// domain (RFC 7208 §6.2), or else the Checker's
	// DefaultExplanation. It comes from a third party and holds only
	// printable US-ASCII.
	Explanation string
	// Mechanism is the directive that matched, in canonical form
	// ("ip4:192.0.2.0/24", "-all"); empty when none matched (the
	// default result, or an error).
	Mechanism string
	// Domain is the domain whose policy was checked: the domain of
	// the sender, or the HELO name.
	Domain   string
	Identity Identity // empty when set by CheckHost
	// Sender is the <sender> of check_host, "postmaster@" prepended
	// when it had no local-part (RFC 7208 §4.3).
	Sender string
	IP     netip.Addr
	Helo   string
	// Receiver is the Checker's Hostname, for ReceivedSPF.
	Receiver string
	// Lookups and VoidLookups count the DNS-querying terms and the
	// void lookups of the check (RFC 7208 §4.6.4).
	Lookups, VoidLookups int
	// Err explains TempError and PermError; it is an *Error.
	Err error
}

// Sentinel errors, found wrapped in an *Error. Test with errors.Is.
var (
	// ErrTooManyLookups: more than MaxLookups terms that query the DNS
	// (RFC 7208 §4.6.4). PermError.
	ErrTooManyLookups = errors.New("too many DNS-querying terms")
	// ErrTooManyVoidLookups: more than MaxVoidLookups lookups that found
	// nothing (RFC 7208 §4.6.4). PermError.
	ErrTooManyVoidLookups = errors.New("too many void DNS lookups")
	// ErrTooManyMX: an mx mechanism found more than 10 MX records (RFC
	// 7208 §4.6.4). PermError.
	ErrTooManyMX = errors.New("more than 10 MX records")
	// ErrMultipleRecords: the domain publishes more than one SPF record
	// (RFC 7208 §4.5). PermError.
	ErrMultipleRecords = errors.New("more than one SPF record")
	// ErrNoRecord: an include or redirect target has no SPF record (RFC
	// 7208 §5.2, §6.1). PermError.
	ErrNoRecord = errors.New("no SPF record")
	// ErrInvalidDomain: an include or redirect target is not a valid
	// domain name (RFC 7208 §6.1). PermError.
	ErrInvalidDomain = errors.New("invalid domain name")
	// ErrInvalidIP: the client address is not valid. PermError.
	ErrInvalidIP = errors.New("invalid client IP address")
	// ErrDNS: a DNS query failed temporarily: SERVFAIL, a timeout,
	// REFUSED (RFC 7208 §4.4, §5). TempError; the *net.DNSError is
	// wrapped too.
	ErrDNS = errors.New("DNS lookup failed")
)

// Error explains a TempError or PermError result. Err is a sentinel above,
// a *SyntaxError, or a DNS error; errors.Is and errors.As see through.
type Error struct {
	Result Result // TempError or PermError
	Domain string // the domain being evaluated when it happened
	Term   string // the term being evaluated, if any
	Err    error
	cause  error // the resolver's error for ErrDNS
}

func (e *Error) Error() string {
	s := "spf: " + string(e.Result)
	if e.Domain != "" {
		s += " for " + e.Domain
	}
	if e.Term != "" {
		s += " at " + e.Term
	}
	s += ": " + e.Err.Error()
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns Err and the resolver's error.
func (e *Error) Unwrap() []error {
	if e.cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.cause}
}

// Temporary reports whether the check may succeed later.
func (e *Error) Temporary() bool { return e.Result == TempError }
