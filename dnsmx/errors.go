package dnsmx

import (
	"context"
	"errors"
	"net"
)

// Sentinel errors, reported wrapped in an *Error. Test with errors.Is.
var (
	// ErrInvalidDomain: the domain or address literal is malformed.
	// Permanent.
	ErrInvalidDomain = errors.New("invalid domain")
	// ErrNoSuchDomain: the domain does not exist, or has neither MX nor
	// address records (RFC 5321 §5.1). Permanent.
	ErrNoSuchDomain = errors.New("no such domain")
	// ErrNullMX: the domain publishes a null MX, "MX 0 .", and accepts no
	// mail (RFC 7505 §3). Permanent; RFC 7505 §4.1 suggests the reply
	// code 556 and enhanced status code 5.1.10.
	ErrNullMX = errors.New("domain accepts no mail (null MX)")
	// ErrNoAddress: MX records exist but none of their hosts has a usable
	// address (RFC 5321 §5.1). Temporary if some host's lookup failed
	// temporarily, else permanent.
	ErrNoAddress = errors.New("no mail exchanger has a usable address")
	// ErrLoop: the local host is the best remaining mail exchanger, so
	// relaying would loop (RFC 5321 §5.1: "If there are no records left at
	// that point, it is an error condition, and the message MUST be
	// returned as undeliverable"). Permanent.
	ErrLoop = errors.New("mail exchanger list points to this host")
	// ErrLookup: a DNS query failed in a way that may pass: SERVFAIL, a
	// timeout, a network error, a malformed answer. Temporary (RFC 5321
	// §5.1: "the message MUST be queued and retried later").
	ErrLookup = errors.New("DNS lookup failed")
)

// Error reports why a domain's mail exchangers could not be found. Kind is
// one of the sentinel errors above; Err, when not nil, is the underlying
// error, often a *net.DNSError. errors.Is and errors.As see both.
type Error struct {
	Domain string // the domain as given
	Kind   error  // a sentinel: ErrNullMX, ErrNoSuchDomain, ...
	Err    error  // the cause, or nil
	temp   bool
}

func (e *Error) Error() string {
	s := "dnsmx: " + e.Domain + ": " + e.Kind.Error()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Kind and Err.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Temporary reports whether trying again later may succeed: a queue should
// retry the message rather than bounce it.
func (e *Error) Temporary() bool { return e.temp }

// Timeout reports whether the error was caused by a DNS timeout.
func (e *Error) Timeout() bool {
	var de *net.DNSError
	return errors.As(e.Err, &de) && de.IsTimeout || errors.Is(e.Err, context.DeadlineExceeded)
}

// IsTemporary reports whether err, as returned by this package or by a
// Resolver, is worth retrying later. A *net.DNSError is temporary unless
// IsNotFound is set: Go reports SERVFAIL as IsTemporary, timeouts as
// IsTimeout, and REFUSED or malformed answers with neither flag, and a queue
// should retry all of those. Context cancellation is temporary too.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Temporary()
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		return !de.IsNotFound
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// isNotFound reports whether a Resolver error means "no such records". Go's
// resolver sets IsNotFound both for NXDOMAIN and for an answer without
// records of the asked type (NODATA), and does not tell them apart.
func isNotFound(err error) bool {
	de, ok := errors.AsType[*net.DNSError](err)
	return ok && de.IsNotFound
}

func invalid(domain, why string) *Error {
	return &Error{Domain: domain, Kind: ErrInvalidDomain, Err: errors.New(why)}
}

func permanent(domain string, kind, err error) *Error {
	return &Error{Domain: domain, Kind: kind, Err: err}
}

func temporary(domain string, kind, err error) *Error {
	return &Error{Domain: domain, Kind: kind, Err: err, temp: true}
}
