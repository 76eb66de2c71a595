package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strings"
	"time"
)

// TXTResolver looks up TXT records. *net.Resolver and dnsmx.Resolver
// satisfy it. An error for which (*net.DNSError).IsNotFound is true means
// the name has no TXT records; any other error is temporary.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Default verification limits; see VerifyOptions.
const (
	DefaultMaxSignatures = 5
	DefaultClockSkew     = 5 * time.Minute
)

// VerifyOptions configures a Verifier. The zero value (or nil) uses
// net.DefaultResolver and the defaults.
type VerifyOptions struct {
	// Resolver looks up key records; nil means net.DefaultResolver.
	Resolver TXTResolver
	// MaxSignatures bounds the DKIM-Signature fields checked per message
	// (each costs a DNS query and a public-key operation); the ones after
	// it, counted from the top, are reported as neutral with
	// ErrNotChecked. 0 means DefaultMaxSignatures, negative no limit.
	MaxSignatures int
	// MaxHeaderBytes bounds the header buffered; 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// Now returns the current time for t= and x=; nil means time.Now.
	Now func() time.Time
	// ClockSkew is the allowance for clocks that disagree: a signature
	// expires ClockSkew after x=, and t= may lie up to ClockSkew in the
	// future. 0 means DefaultClockSkew, negative none.
	ClockSkew time.Duration
}

// Status is the outcome of verifying one signature, named as in
// Authentication-Results (RFC 8601 §2.7.1).
type Status string

// Verification outcomes.
const (
	// StatusNone: the message carries no signature (Verify returns no
	// Results then; the constant is for reporting).
	StatusNone Status = "none"
	// StatusPass: the signature verified.
	StatusPass Status = "pass"
	// StatusFail: the signature was checked and did not verify (body hash
	// or signature mismatch, l= beyond the body).
	StatusFail Status = "fail"
	// StatusNeutral: the signature was not checked (ErrNotChecked).
	StatusNeutral Status = "neutral"
	// StatusTempError: the key could not be fetched for now (*DNSError).
	StatusTempError Status = "temperror"
	// StatusPermError: the signature cannot be checked and will never be:
	// bad syntax, missing or revoked or unusable key, key too small,
	// rsa-sha1, expired, From not signed.
	StatusPermError Status = "permerror"
)

// Result is the outcome for one DKIM-Signature field, in the order the
// fields appear in the message (top first).
type Result struct {
	Status Status
	// Err says why the status is not pass: one of the sentinel errors of
	// this package (errors.Is), a *SyntaxError or a *DNSError (errors.As).
	Err error
	// Field is the field's value as written (after the colon).
	Field string
	// Signature is the parsed field; nil when it did not parse.
	Signature *Signature
	// Key is the key record used; nil when it was not fetched.
	Key *KeyRecord
	// UnsignedBytes counts the canonical body bytes after the l= count,
	// which the signature does not cover: content anyone could have
	// appended. Callers should treat a non-zero count as suspicious.
	UnsignedBytes int64
}

// Testing reports whether the key record has the t=y flag: the signing
// domain is testing DKIM, and a failure must not be held against the
// message (RFC 6376 §3.6.1).
func (r *Result) Testing() bool { return r.Key != nil && r.Key.Testing() }

// Domain returns d= of the signature, or "".
func (r *Result) Domain() string {
	if r.Signature == nil {
		return ""
	}
	return r.Signature.Domain
}

// pending is a signature whose header hash is computed and whose body hash
// and key are still to come.
type pending struct {
	res    *Result
	digest []byte
	body   *bodySink
}

// Verifier checks every DKIM-Signature of a message written to it in one
// pass: it buffers the header (up to MaxHeaderBytes), computes each
// signature's header hash when the blank line arrives, and streams the body
// through the canonicalisers; each body hash (per canonicalisation, l= and
// hash algorithm) is computed once however many signatures share it.
// Finish then fetches the keys and reports a Result per signature.
type Verifier struct {
	opts    VerifyOptions
	hdr     headerSplitter
	body    bodyHashes
	results []*Result
	pend    []*pending
	err     error
	closed  bool
}

// NewVerifier returns a Verifier; opts may be nil.
func NewVerifier(opts *VerifyOptions) *Verifier {
	v := &Verifier{}
	if opts != nil {
		v.opts = *opts
	}
	if v.opts.Resolver == nil {
		v.opts.Resolver = net.DefaultResolver
	}
	if v.opts.MaxSignatures == 0 {
		v.opts.MaxSignatures = DefaultMaxSignatures
	}
	if v.opts.MaxHeaderBytes <= 0 {
		v.opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if v.opts.Now == nil {
		v.opts.Now = time.Now
	}
	if v.opts.ClockSkew == 0 {
		v.opts.ClockSkew = DefaultClockSkew
	} else if v.opts.ClockSkew < 0 {
		v.opts.ClockSkew = 0
	}
	v.hdr.max = v.opts.MaxHeaderBytes
	return v
}

// Write takes the next bytes of the message, header first.
func (v *Verifier) Write(p []byte) (int, error) {
	if v.closed {
		return 0, ErrClosed
	}
	if v.err != nil {
		return 0, v.err
	}
	total := len(p)
	if !v.hdr.done {
		n, err := v.hdr.feed(p)
		if err != nil {
			v.err = err
			return 0, err
		}
		if !v.hdr.done {
			return total, nil
		}
		if err := v.startBody(); err != nil {
			return 0, err
		}
		p = p[n:]
	}
	v.body.Write(p)
	return total, nil
}

// startBody parses the header and prepares every signature: syntax and
// semantic checks, header hash, body hash registration.
func (v *Verifier) startBody() error {
	h, rest, err := parseHeader(v.hdr.buf, v.hdr.max)
	if err != nil {
		v.err = err
		return err
	}
	x := newHeaderIndex(h)
	now := v.opts.Now()
	checked := 0
	for i := range h.Len() {
		if x.names[i] != "dkim-signature" {
			continue
		}
		f := h.Field(i)
		raw := trimLineEnd(f.Raw)
		res := &Result{Field: f.Value}
		v.results = append(v.results, res)
		if v.opts.MaxSignatures > 0 && checked >= v.opts.MaxSignatures {
			res.Status, res.Err = StatusNeutral, ErrNotChecked
			continue
		}
		checked++
		_, value, _ := bytes.Cut(raw, []byte(":"))
		sig, err := ParseSignature(string(value))
		if err != nil {
			res.Status, res.Err = StatusPermError, err
			continue
		}
		res.Signature = sig
		if err := checkSignature(sig, now, v.opts.ClockSkew); err != nil {
			res.Status, res.Err = StatusPermError, err
			continue
		}
		hh := newHash(sig.Algorithm)
		x.hashFields(hh, sig.Headers, sig.HeaderCanon)
		hh.Write(canonSigField(stripBValue(raw), sig.HeaderCanon))
		limit := int64(-1)
		if sig.HasBodyLength {
			limit = sig.BodyLength
		}
		p := &pending{res: res, digest: hh.Sum(nil)}
		p.body = v.body.add(bodyKey{canon: sig.BodyCanon, limit: limit, hash: sig.Algorithm.hashName()})
		v.pend = append(v.pend, p)
	}
	v.body.start()
	v.body.Write(rest)
	v.hdr.buf = nil
	return nil
}

func newHash(a Algorithm) hash.Hash { return sha256.New() }

// checkSignature applies the checks of RFC 6376 §6.1.1 that need neither
// key nor body, and RFC 8301's refusal of rsa-sha1.
func checkSignature(sig *Signature, now time.Time, skew time.Duration) error {
	switch sig.Algorithm {
	case RSASHA256, Ed25519SHA256:
	case RSASHA1:
		return ErrRSASHA1
	default:
		return fmt.Errorf("%w: %q", ErrUnknownAlgorithm, sig.Algorithm)
	}
	from := false
	for _, h := range sig.Headers {
		if strings.EqualFold(h, "From") {
			from = true
		}
	}
	if !from {
		return ErrFromNotSigned
	}
	if !validDomain(sig.Domain) || !validDomain(sig.Selector) {
		return &SyntaxError{What: "DKIM-Signature", Tag: "d", Msg: "d= or s= is not a domain name"}
	}
	if sig.Identity != "" && !identityWithin(sig.Identity, sig.Domain) {
		return ErrDomainMismatch
	}
	if sig.QueryMethods != nil {
		ok := false
		for _, q := range sig.QueryMethods {
			if strings.EqualFold(q, "dns/txt") || strings.EqualFold(q, "dns") {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("%w: no supported query method in q=", ErrKeyUnusable)
		}
	}
	if !sig.Expiration.IsZero() && now.After(sig.Expiration.Add(skew)) {
		return fmt.Errorf("%w at %s", ErrExpired, sig.Expiration.Format(time.RFC3339))
	}
	if !sig.Timestamp.IsZero() && sig.Timestamp.After(now.Add(skew)) {
		return fmt.Errorf("%w: %s", ErrFutureTimestamp, sig.Timestamp.Format(time.RFC3339))
	}
	return nil
}

// Finish ends the message, fetches the keys of the signatures that passed
// the header checks, and returns a Result per DKIM-Signature field, top
// first; none for an unsigned message. The error is for the message as a
// whole (a header beyond the limit), not for any signature.
func (v *Verifier) Finish(ctx context.Context) ([]*Result, error) {
	if !v.closed {
		v.closed = true
		if v.err == nil && !v.hdr.done {
			v.startBody()
		}
		if v.err != nil {
			return nil, v.err
		}
		v.body.Close()
		keys := map[string]keyAnswer{}
		for _, p := range v.pend {
			v.check(ctx, p, keys)
		}
		v.pend = nil
	}
	return v.results, v.err
}

type keyAnswer struct {
	key *KeyRecord
	err error
	st  Status
}

func (v *Verifier) check(ctx context.Context, p *pending, keys map[string]keyAnswer) {
	res, sig := p.res, p.res.Signature
	name := sig.Selector + "._domainkey." + strings.TrimSuffix(sig.Domain, ".") + "."
	ans, ok := keys[strings.ToLower(name)]
	if !ok {
		ans = v.fetchKey(ctx, name)
		keys[strings.ToLower(name)] = ans
	}
	res.Key = ans.key
	if ans.err != nil {
		res.Status, res.Err = ans.st, ans.err
		return
	}
	if err := checkKey(ans.key, sig); err != nil {
		res.Status, res.Err = StatusPermError, err
		return
	}
	res.UnsignedBytes = p.body.unsigned()
	if sig.HasBodyLength && p.body.n < sig.BodyLength {
		res.Status = StatusFail
		res.Err = fmt.Errorf("%w: l=%d, body %d bytes", ErrBodyLength, sig.BodyLength, p.body.n)
		return
	}
	if !bytes.Equal(p.body.h.Sum(nil), sig.BodyHash) {
		res.Status, res.Err = StatusFail, ErrBodyHashMismatch
		return
	}
	var good bool
	switch pub := ans.key.PublicKey.(type) {
	case *rsa.PublicKey:
		good = rsa.VerifyPKCS1v15(pub, crypto.SHA256, p.digest, sig.Signature) == nil
	case ed25519.PublicKey:
		good = ed25519.Verify(pub, p.digest, sig.Signature)
	}
	if !good {
		res.Status, res.Err = StatusFail, ErrSignatureMismatch
		return
	}
	res.Status = StatusPass
}

// fetchKey looks up and parses the key record at name (RFC 6376 §3.6.2).
func (v *Verifier) fetchKey(ctx context.Context, name string) keyAnswer {
	txts, err := v.opts.Resolver.LookupTXT(ctx, name)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return keyAnswer{err: fmt.Errorf("%w: %s", ErrNoKey, name), st: StatusPermError}
		}
		return keyAnswer{err: &DNSError{Name: name, Err: err}, st: StatusTempError}
	}
	if len(txts) == 0 {
		return keyAnswer{err: fmt.Errorf("%w: %s", ErrNoKey, name), st: StatusPermError}
	}
	// RFC 6376 §3.6.2.2: with several records the verifier may pick one;
	// take the first that parses.
	var first error
	for _, t := range txts {
		k, err := ParseKeyRecord(t)
		if err == nil {
			return keyAnswer{key: k}
		}
		if first == nil {
			first = err
		}
	}
	return keyAnswer{err: fmt.Errorf("%w: %w", ErrKeyUnusable, first), st: StatusPermError}
}

// checkKey applies RFC 6376 §6.1.2's checks of a key against a signature,
// and RFC 8301's minimum RSA size.
func checkKey(k *KeyRecord, sig *Signature) error {
	if k.Revoked {
		return ErrKeyRevoked
	}
	if k.KeyType != sig.Algorithm.keyType() {
		return fmt.Errorf("%w: k=%s but a=%s", ErrKeyUnusable, k.KeyType, sig.Algorithm)
	}
	if k.HashAlgorithms != nil {
		ok := false
		for _, h := range k.HashAlgorithms {
			ok = ok || strings.EqualFold(h, sig.Algorithm.hashName())
		}
		if !ok {
			return fmt.Errorf("%w: h= does not allow %s", ErrKeyUnusable, sig.Algorithm.hashName())
		}
	}
	if k.Services != nil {
		ok := false
		for _, s := range k.Services {
			ok = ok || s == "*" || strings.EqualFold(s, "email")
		}
		if !ok {
			return fmt.Errorf("%w: s= excludes email", ErrKeyUnusable)
		}
	}
	if k.Strict() && sig.Identity != "" {
		at := strings.LastIndexByte(sig.Identity, '@')
		if !strings.EqualFold(strings.TrimSuffix(sig.Identity[at+1:], "."), strings.TrimSuffix(sig.Domain, ".")) {
			return fmt.Errorf("%w: t=s and i= is in a subdomain of d=", ErrKeyUnusable)
		}
	}
	if pub, ok := k.PublicKey.(*rsa.PublicKey); ok && pub.N.BitLen() < MinRSAKeyBits {
		return fmt.Errorf("%w: %d bits", ErrKeyTooSmall, pub.N.BitLen())
	}
	return nil
}

// Verify reads the message from r and verifies every DKIM-Signature in it,
// as a Verifier does. opts may be nil.
func Verify(ctx context.Context, r io.Reader, opts *VerifyOptions) ([]*Result, error) {
	v := NewVerifier(opts)
	if _, err := io.Copy(v, r); err != nil {
		if v.err != nil {
			return nil, v.err
		}
		return nil, err
	}
	return v.Finish(ctx)
}

var _ TXTResolver = (*net.Resolver)(nil)
