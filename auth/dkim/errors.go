package dkim

import (
	"errors"
	"fmt"
)

// Sentinel errors carried in Result.Err (wrapped, so test with errors.Is) and
// returned by the signer. Each names one reason a signature did not verify.
var (
	// ErrBodyHashMismatch: the body hash computed does not match bh= (RFC
	// 6376 §6.1.3 step 3). Status fail.
	ErrBodyHashMismatch = errors.New("dkim: body hash did not verify")
	// ErrSignatureMismatch: the b= signature does not verify against the
	// header hash with the key (RFC 6376 §6.1.3 step 4). Status fail.
	ErrSignatureMismatch = errors.New("dkim: signature did not verify")
	// ErrBodyLength: l= is larger than the canonicalised body (RFC 6376
	// §3.5). Status fail.
	ErrBodyLength = errors.New("dkim: l= exceeds the body length")
	// ErrKeyRevoked: the key record has an empty p= (RFC 6376 §3.6.1).
	// Status permerror.
	ErrKeyRevoked = errors.New("dkim: key revoked")
	// ErrKeyTooSmall: an RSA key below MinRSAKeyBits (RFC 8301 §3.2).
	// Status permerror.
	ErrKeyTooSmall = errors.New("dkim: RSA key too small")
	// ErrRSASHA1: a=rsa-sha1, which RFC 8301 §3.1 requires verifiers to
	// treat as failing. Status permerror.
	ErrRSASHA1 = errors.New("dkim: rsa-sha1 is not accepted (RFC 8301)")
	// ErrUnknownAlgorithm: a= names an algorithm this package does not
	// implement. Status permerror.
	ErrUnknownAlgorithm = errors.New("dkim: unknown signing algorithm")
	// ErrNoKey: the key record does not exist (NXDOMAIN or no TXT record,
	// RFC 6376 §6.1.2). Status permerror.
	ErrNoKey = errors.New("dkim: no key for signature")
	// ErrKeyUnusable: the key record is unusable for this signature: bad
	// syntax, a key type that does not match a=, a hash it does not allow,
	// a service type other than email, or the t=s flag with an i= in a
	// subdomain of d= (RFC 6376 §6.1.2). Status permerror.
	ErrKeyUnusable = errors.New("dkim: key unusable for this signature")
	// ErrExpired: the signature's x= lies in the past (RFC 6376 §3.5).
	// Status permerror.
	ErrExpired = errors.New("dkim: signature expired")
	// ErrFutureTimestamp: t= lies further in the future than the clock
	// allowance. Status permerror.
	ErrFutureTimestamp = errors.New("dkim: signature timestamp in the future")
	// ErrFromNotSigned: h= does not include From (RFC 6376 §5.4). Status
	// permerror.
	ErrFromNotSigned = errors.New("dkim: From field not signed")
	// ErrDomainMismatch: i= is not d= or a subdomain of it (RFC 6376 §3.5).
	// Status permerror.
	ErrDomainMismatch = errors.New("dkim: i= domain is not d= or a subdomain of it")
	// ErrNotChecked: the message has more DKIM-Signature fields than
	// VerifyOptions.MaxSignatures; the extras are not checked. Status
	// neutral.
	ErrNotChecked = errors.New("dkim: signature not checked (too many signatures)")
	// ErrHeaderTooLarge: the header exceeds the buffering limit of a Signer
	// or Verifier (DefaultMaxHeaderBytes).
	ErrHeaderTooLarge = errors.New("dkim: header too large")
	// ErrNoFrom: a message to be signed has no From field (RFC 6376 §5.4).
	ErrNoFrom = errors.New("dkim: message has no From field")
	// ErrClosed: Write after Close.
	ErrClosed = errors.New("dkim: write after close")
)

// SyntaxError reports a malformed tag-list, DKIM-Signature field or key
// record: what was being parsed, the tag concerned (if any), the byte offset
// in the input where the problem lies, and what is wrong.
type SyntaxError struct {
	What   string // "tag-list", "DKIM-Signature" or "key record"
	Tag    string // the tag concerned, "" if none
	Offset int    // byte offset into the parsed text
	Msg    string // the problem
}

func (e *SyntaxError) Error() string {
	if e.Tag != "" {
		return fmt.Sprintf("dkim: %s: tag %q at offset %d: %s", e.What, e.Tag, e.Offset, e.Msg)
	}
	return fmt.Sprintf("dkim: %s: offset %d: %s", e.What, e.Offset, e.Msg)
}

// DNSError is a key lookup failure. Temporary failures (timeouts, SERVFAIL)
// give Status temperror; a missing record is ErrNoKey instead.
type DNSError struct {
	Name string // the name queried, selector._domainkey.domain
	Err  error  // the resolver's error
}

func (e *DNSError) Error() string {
	return fmt.Sprintf("dkim: key lookup %s: %v", e.Name, e.Err)
}

func (e *DNSError) Unwrap() error { return e.Err }

// Temporary reports true: a DNSError always means "try again later".
func (e *DNSError) Temporary() bool { return true }
