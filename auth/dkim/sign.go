package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
)

// DefaultHeaderFields are the fields a Signer signs when
// SignOptions.HeaderFields is nil: those that carry the message's meaning
// to the reader (RFC 6376 §5.4.1).
var DefaultHeaderFields = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Sender",
	"Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-ID", "Content-Description", "Content-Disposition",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe",
	"List-Post", "List-Owner", "List-Archive",
}

// DefaultOverSign are the fields a Signer signs once more than they occur
// when SignOptions.OverSign is nil, so that no instance can be added
// without breaking the signature (RFC 6376 §5.4.2, §8.15).
var DefaultOverSign = []string{"From", "Reply-To", "Subject", "Date", "To", "Cc"}

// SignOptions configures one signature.
type SignOptions struct {
	// Domain is the signing domain, d=. Required.
	Domain string
	// Selector is s=; the key record is published at
	// Selector._domainkey.Domain. Required.
	Selector string
	// Key signs: an *rsa.PrivateKey of at least MinRSAKeyBits bits (2048
	// recommended, RFC 8301 §3.2), giving rsa-sha256, or an
	// ed25519.PrivateKey, giving ed25519-sha256 (RFC 8463). Any other
	// crypto.Signer whose Public() is one of those works too.
	Key crypto.Signer
	// Identity is i=, "[local-part]@domain" within Domain; optional.
	Identity string
	// HeaderCanon and BodyCanon are c=; empty means Relaxed.
	HeaderCanon, BodyCanon Canonicalization
	// HeaderFields lists the fields to sign, each instance present in the
	// message; nil means DefaultHeaderFields. From is always signed.
	HeaderFields []string
	// OverSign lists fields signed once more than they occur; nil means
	// DefaultOverSign, an empty non-nil slice none.
	OverSign []string
	// Time is t=; zero means the time of signing. NoTimestamp omits t=.
	Time        time.Time
	NoTimestamp bool
	// Expiration, when positive, sets x= to t= plus it.
	Expiration time.Duration
	// MaxHeaderBytes bounds the header buffered; 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// signerKey is one signature in the making.
type signerKey struct {
	opts *SignOptions
	alg  Algorithm
	sig  *Signature
	hh   hash.Hash // header hash, all but the signature field
	body *bodySink
}

// Signer computes DKIM-Signature fields for a message written to it, in
// one pass and without holding the body: it buffers the header (up to
// MaxHeaderBytes), hashes it once the blank line arrives, and streams the
// body through the canonicalisers into the body hashes. After Close,
// Fields returns the fields to put in front of the message, one per
// SignOptions given to NewSigner.
type Signer struct {
	keys   []*signerKey
	hdr    headerSplitter
	body   bodyHashes
	err    error
	closed bool
	out    []byte
	sigs   []*Signature
}

// NewSigner returns a Signer making one signature per opts (for example an
// RSA and an Ed25519 one at once). It checks the options: domain and
// selector present and free of characters that would break the field, the
// key type and size (RFC 8301: no rsa-sha1, RSA keys of at least
// MinRSAKeyBits bits), i= within d=.
func NewSigner(opts ...*SignOptions) (*Signer, error) {
	if len(opts) == 0 {
		return nil, errors.New("dkim: NewSigner needs at least one SignOptions")
	}
	s := &Signer{}
	for _, o := range opts {
		s.hdr.max = max(s.hdr.max, o.MaxHeaderBytes)
		alg, err := checkSignOptions(o)
		if err != nil {
			return nil, err
		}
		hc, bc := o.HeaderCanon, o.BodyCanon
		if hc == "" {
			hc = Relaxed
		}
		if bc == "" {
			bc = Relaxed
		}
		k := &signerKey{opts: o, alg: alg, hh: sha256.New()}
		k.sig = &Signature{
			Version: 1, Algorithm: alg, HeaderCanon: hc, BodyCanon: bc,
			Domain: o.Domain, Selector: o.Selector, Identity: o.Identity,
		}
		k.body = s.body.add(bodyKey{canon: bc, limit: -1, hash: "sha256"})
		s.keys = append(s.keys, k)
	}
	if s.hdr.max <= 0 {
		s.hdr.max = DefaultMaxHeaderBytes
	}
	return s, nil
}

func checkSignOptions(o *SignOptions) (Algorithm, error) {
	for _, v := range []struct{ tag, val string }{{"d", o.Domain}, {"s", o.Selector}} {
		if !validDomain(v.val) {
			return "", fmt.Errorf("dkim: invalid %s= value %q", v.tag, v.val)
		}
	}
	if o.Identity != "" {
		if strings.ContainsAny(o.Identity, "; \t\r\n") || !identityWithin(o.Identity, o.Domain) {
			return "", fmt.Errorf("dkim: i= %q: %w", o.Identity, ErrDomainMismatch)
		}
	}
	for _, c := range []Canonicalization{o.HeaderCanon, o.BodyCanon} {
		if c != "" && !c.valid() {
			return "", fmt.Errorf("dkim: unknown canonicalization %q", c)
		}
	}
	if o.Key == nil {
		return "", errors.New("dkim: SignOptions.Key is nil")
	}
	switch pub := o.Key.Public().(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < MinRSAKeyBits {
			return "", fmt.Errorf("%w: %d bits", ErrKeyTooSmall, pub.N.BitLen())
		}
		return RSASHA256, nil
	case ed25519.PublicKey:
		return Ed25519SHA256, nil
	}
	return "", fmt.Errorf("dkim: unsupported key type %T", o.Key.Public())
}

// validDomain accepts names of letters, digits, hyphens and underscores
// separated by dots (A-labels; the selector may have several labels).
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// identityWithin reports whether the domain of i= is d= or a subdomain of
// it (RFC 6376 §3.5).
func identityWithin(identity, domain string) bool {
	at := strings.LastIndexByte(identity, '@')
	if at < 0 {
		return false
	}
	id := strings.ToLower(strings.TrimSuffix(identity[at+1:], "."))
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	return id == d || strings.HasSuffix(id, "."+d)
}

// Write takes the next bytes of the message, header first. Line ends may be
// CRLF or LF.
func (s *Signer) Write(p []byte) (int, error) {
	if s.closed {
		return 0, ErrClosed
	}
	if s.err != nil {
		return 0, s.err
	}
	total := len(p)
	if !s.hdr.done {
		n, err := s.hdr.feed(p)
		if err != nil {
			s.err = err
			return 0, err
		}
		if !s.hdr.done {
			return total, nil
		}
		if err := s.startBody(); err != nil {
			return 0, err
		}
		p = p[n:]
	}
	s.body.Write(p)
	return total, nil
}

// startBody parses the gathered header, hashes the chosen fields for each
// signature and starts the body hashes on whatever followed the header.
func (s *Signer) startBody() error {
	h, rest, err := parseHeader(s.hdr.buf, s.hdr.max)
	if err != nil {
		s.err = err
		return err
	}
	x := newHeaderIndex(h)
	if x.count("From") == 0 {
		s.err = ErrNoFrom
		return s.err
	}
	for _, k := range s.keys {
		k.sig.Headers = chooseFields(x, k.opts)
		x.hashFields(k.hh, k.sig.Headers, k.sig.HeaderCanon)
	}
	s.body.start()
	s.body.Write(rest)
	s.hdr.buf = nil
	return nil
}

// chooseFields builds h=: every instance of each chosen field present, plus
// one more for over-signed ones; From always.
func chooseFields(x *headerIndex, o *SignOptions) []string {
	fields := o.HeaderFields
	if fields == nil {
		fields = DefaultHeaderFields
	}
	over := o.OverSign
	if over == nil {
		over = DefaultOverSign
	}
	isOver := func(name string) bool {
		for _, f := range over {
			if strings.EqualFold(f, name) {
				return true
			}
		}
		return false
	}
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		ln := lower(name)
		if seen[ln] {
			return
		}
		seen[ln] = true
		n := x.count(name)
		if isOver(name) {
			n++
		}
		for range n {
			names = append(names, name)
		}
	}
	add("From")
	for _, f := range fields {
		add(f)
	}
	for _, f := range over {
		add(f)
	}
	return names
}

// Close ends the message and computes the signatures. A message without a
// blank line after its header is all header and has an empty body.
func (s *Signer) Close() error {
	if s.closed {
		return s.err
	}
	s.closed = true
	if s.err != nil {
		return s.err
	}
	if !s.hdr.done {
		if err := s.startBody(); err != nil {
			return err
		}
	}
	s.body.Close()
	now := time.Now()
	for _, k := range s.keys {
		k.sig.BodyHash = k.body.h.Sum(nil)
		if !k.opts.NoTimestamp {
			t := k.opts.Time
			if t.IsZero() {
				t = now
			}
			k.sig.Timestamp = time.Unix(t.Unix(), 0).UTC()
			if k.opts.Expiration > 0 {
				k.sig.Expiration = k.sig.Timestamp.Add(k.opts.Expiration.Round(time.Second))
			}
		} else if k.opts.Expiration > 0 {
			t := k.opts.Time
			if t.IsZero() {
				t = now
			}
			k.sig.Expiration = time.Unix(t.Add(k.opts.Expiration).Unix(), 0).UTC()
		}
		unsigned := k.sig.Format(false)
		k.hh.Write(canonSigField(unsigned, k.sig.HeaderCanon))
		digest := k.hh.Sum(nil)
		b, err := signDigest(k.opts.Key, k.alg, digest)
		if err != nil {
			s.err = fmt.Errorf("dkim: signing with %s: %w", k.alg, err)
			return s.err
		}
		k.sig.Signature = b
		s.out = append(s.out, k.sig.Format(true)...)
		s.sigs = append(s.sigs, k.sig)
	}
	return nil
}

// canonSigField returns the DKIM-Signature field as hashed: canonicalised,
// without its final line end (RFC 6376 §3.7).
func canonSigField(raw []byte, c Canonicalization) []byte {
	b := appendHeaderCanon(nil, raw, c)
	return b[:len(b)-2]
}

func signDigest(key crypto.Signer, alg Algorithm, digest []byte) ([]byte, error) {
	if alg == Ed25519SHA256 {
		// RFC 8463 §3: PureEdDSA over the SHA-256 hash.
		return key.Sign(rand.Reader, digest, crypto.Hash(0))
	}
	return key.Sign(rand.Reader, digest, crypto.SHA256)
}

// Fields returns the DKIM-Signature fields computed by Close, folded, each
// ending in CRLF, in the order of the options given to NewSigner. Write
// them in front of the message.
func (s *Signer) Fields() []byte { return s.out }

// Signatures returns the signatures computed by Close.
func (s *Signer) Signatures() []*Signature { return s.sigs }

// Sign signs the message read from r and writes it to w with the
// DKIM-Signature fields in front. The signatures depend on the whole
// message, so r is read twice: if r is an io.ReadSeeker (a file, a
// bytes.Reader), Sign seeks back to where it started; otherwise it spools
// the message to a temporary file, removed before Sign returns. Either way
// memory does not grow with the message.
func Sign(w io.Writer, r io.Reader, opts ...*SignOptions) error {
	s, err := NewSigner(opts...)
	if err != nil {
		return err
	}
	src, ok := r.(io.ReadSeeker)
	var start int64
	if ok {
		start, err = src.Seek(0, io.SeekCurrent)
		ok = err == nil
	}
	if !ok {
		f, err := os.CreateTemp("", "dkim-spool-")
		if err != nil {
			return fmt.Errorf("dkim: spooling message: %w", err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		if _, err := io.Copy(io.MultiWriter(f, s), r); err != nil {
			return err
		}
		src, start = f, 0
	} else if _, err := io.Copy(s, src); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	if _, err := src.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("dkim: rewinding message: %w", err)
	}
	if _, err := w.Write(s.Fields()); err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
