package dkim

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	keysOnce sync.Once
	testRSA  *rsa.PrivateKey
	testEd   ed25519.PrivateKey
)

// testKeys returns an RSA-2048 and an Ed25519 key, made once per test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, ed25519.PrivateKey) {
	keysOnce.Do(func() {
		var err error
		testRSA, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testEd = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	})
	return testRSA, testEd
}

func record(t testing.TB, pub crypto.PublicKey, extra string) string {
	k, err := NewKeyRecord(pub)
	require.NoError(t, err)
	s := k.String()
	if extra != "" {
		s = strings.Replace(s, "; p=", "; "+extra+"; p=", 1)
	}
	return s
}

const testMessage = "From: Alice <alice@a.test>\r\n" +
	"To: Bob <bob@b.test>\r\n" +
	"Subject: Lunch\r\n" +
	"Date: Mon, 2 Jan 2006 15:04:05 -0700\r\n" +
	"Message-ID: <1@a.test>\r\n" +
	"\r\n" +
	"Shall we have lunch?\r\n" +
	"  Alice  \r\n"

func testDNS(t testing.TB) *fakeDNS {
	rk, ek := testKeys(t)
	return &fakeDNS{txt: map[string][]string{
		"rsa._domainkey.a.test": {record(t, rk.Public(), "")},
		"ed._domainkey.a.test":  {record(t, ek.Public(), "")},
	}}
}

func signTest(t testing.TB, msg string, opts ...*SignOptions) string {
	var out bytes.Buffer
	require.NoError(t, Sign(&out, strings.NewReader(msg), opts...))
	return out.String()
}

func bothKeys(t testing.TB, c Canonicalization) []*SignOptions {
	rk, ek := testKeys(t)
	return []*SignOptions{
		{Domain: "a.test", Selector: "rsa", Key: rk, HeaderCanon: c, BodyCanon: c, Time: time.Unix(1700000000, 0)},
		{Domain: "a.test", Selector: "ed", Key: ek, HeaderCanon: c, BodyCanon: c, Time: time.Unix(1700000000, 0)},
	}
}

func verifyTest(t testing.TB, msg string, dns TXTResolver) []*Result {
	res, err := Verify(context.Background(), strings.NewReader(msg), &VerifyOptions{Resolver: dns, Now: at(1700000100)})
	require.NoError(t, err)
	return res
}

func TestSignVerify(t *testing.T) {
	dns := testDNS(t)
	for _, c := range []Canonicalization{Simple, Relaxed} {
		signed := signTest(t, testMessage, bothKeys(t, c)...)
		res := verifyTest(t, signed, dns)
		require.Len(t, res, 2)
		for _, r := range res {
			assert.Equal(t, StatusPass, r.Status, "%s: %v", c, r.Err)
		}
		// Every line of the fields is at most 78 characters.
		hdr, _, _ := strings.Cut(signed, "From:")
		for _, line := range strings.Split(hdr, "\r\n") {
			assert.LessOrEqual(t, len(line), 78, line)
		}
		// Over-signing: h= names From, Subject, Date and To once more than present.
		h := strings.Join(res[0].Signature.Headers, ":")
		assert.Equal(t, 2, strings.Count(h, "From"), h)
		assert.Equal(t, 1, strings.Count(h, "Cc"), h)

		tests := []struct {
			name   string
			edit   func(string) string
			status Status
			err    error
		}{
			{"tampered body", func(s string) string { return strings.Replace(s, "lunch", "dinner", 1) }, StatusFail, ErrBodyHashMismatch},
			{"tampered subject", func(s string) string { return strings.Replace(s, "Subject: Lunch", "Subject: Dinner", 1) }, StatusFail, ErrSignatureMismatch},
			{"added From", func(s string) string { return strings.Replace(s, "To: Bob", "From: mallory@m.test\r\nTo: Bob", 1) }, StatusFail, ErrSignatureMismatch},
			{"added Cc", func(s string) string { return strings.Replace(s, "To: Bob", "Cc: mallory@m.test\r\nTo: Bob", 1) }, StatusFail, ErrSignatureMismatch},
			{"appended body", func(s string) string { return s + "P.S. send money\r\n" }, StatusFail, ErrBodyHashMismatch},
		}
		for _, tt := range tests {
			res := verifyTest(t, tt.edit(signed), dns)
			require.Len(t, res, 2)
			for _, r := range res {
				assert.Equal(t, tt.status, r.Status, "%s %s", c, tt.name)
				assert.ErrorIs(t, r.Err, tt.err, "%s %s", c, tt.name)
			}
		}
	}
	// Relaxed survives re-folding and white space changes.
	signed := signTest(t, testMessage, bothKeys(t, Relaxed)...)
	edited := strings.Replace(signed, "Subject: Lunch", "subject:\r\n   Lunch ", 1)
	edited = strings.Replace(edited, "Shall we", "Shall   we", 1)
	for _, r := range verifyTest(t, edited, dns) {
		assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
	}
}

// signCustom signs msg with a signature built from tmpl (for tags the
// Signer does not produce: l=, a=rsa-sha1, odd h=), computing hashes as a
// verifier does.
func signCustom(t testing.TB, msg string, tmpl *Signature, key crypto.Signer) string {
	hdr, body, _ := strings.Cut(msg, "\r\n\r\n")
	h, _, err := parseHeader([]byte(hdr+"\r\n\r\n"), DefaultMaxHeaderBytes)
	require.NoError(t, err)
	limit := int64(-1)
	if tmpl.HasBodyLength {
		limit = tmpl.BodyLength
	}
	sink := &bodySink{h: sha256.New(), limit: limit}
	bc := newBodyCanon(sink, tmpl.BodyCanon)
	bc.Write([]byte(body))
	bc.Close()
	tmpl.BodyHash = sink.h.Sum(nil)
	hh := sha256.New()
	newHeaderIndex(h).hashFields(hh, tmpl.Headers, tmpl.HeaderCanon)
	hh.Write(canonSigField(tmpl.Format(false), tmpl.HeaderCanon))
	alg := tmpl.Algorithm
	if alg == RSASHA1 {
		alg = RSASHA256 // the hash does not matter: verifiers refuse before
	}
	tmpl.Signature, err = signDigest(key, alg, hh.Sum(nil))
	require.NoError(t, err)
	return string(tmpl.Format(true)) + msg
}

func baseSig(alg Algorithm, sel string) *Signature {
	return &Signature{Version: 1, Algorithm: alg, HeaderCanon: Relaxed, BodyCanon: Relaxed,
		Domain: "a.test", Selector: sel, Headers: []string{"From", "To", "Subject"}}
}

func TestVerifyErrors(t *testing.T) {
	rk, ek := testKeys(t)
	dns := testDNS(t)
	small := "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALNfHZ3vdcRMAJUB89Z3gcwW0JvEaNZWYUcKfft5qoQYVvFMI7UTisvJAdafMiPKghSpWbJ+E84SwRgP3iScrrMCAwEAAQ=="
	dns.txt["small._domainkey.a.test"] = []string{small}
	dns.txt["revoked._domainkey.a.test"] = []string{"v=DKIM1; k=rsa; p="}
	dns.txt["sha1only._domainkey.a.test"] = []string{record(t, rk.Public(), "h=sha1")}
	dns.txt["strict._domainkey.a.test"] = []string{record(t, rk.Public(), "t=s")}
	dns.txt["testing._domainkey.a.test"] = []string{record(t, rk.Public(), "t=y:s")}
	dns.txt["web._domainkey.a.test"] = []string{record(t, rk.Public(), "s=web")}
	dns.txt["bad._domainkey.a.test"] = []string{"v=DKIM1; k=rsa; p=!!!"}
	dns.temp = map[string]bool{"down._domainkey.a.test": true}

	type tc struct {
		name   string
		sig    func() *Signature
		key    crypto.Signer
		status Status
		err    error
	}
	tests := []tc{
		{"pass", func() *Signature { return baseSig(RSASHA256, "rsa") }, rk, StatusPass, nil},
		{"rsa-sha1", func() *Signature { return baseSig(RSASHA1, "rsa") }, rk, StatusPermError, ErrRSASHA1},
		{"unknown algorithm", func() *Signature { return baseSig("dsa-sha256", "rsa") }, rk, StatusPermError, ErrUnknownAlgorithm},
		{"key too small", func() *Signature { return baseSig(RSASHA256, "small") }, rk, StatusPermError, ErrKeyTooSmall},
		{"revoked", func() *Signature { return baseSig(RSASHA256, "revoked") }, rk, StatusPermError, ErrKeyRevoked},
		{"no key", func() *Signature { return baseSig(RSASHA256, "nokey") }, rk, StatusPermError, ErrNoKey},
		{"bad key record", func() *Signature { return baseSig(RSASHA256, "bad") }, rk, StatusPermError, ErrKeyUnusable},
		{"key type mismatch", func() *Signature { return baseSig(Ed25519SHA256, "rsa") }, ek, StatusPermError, ErrKeyUnusable},
		{"hash not allowed", func() *Signature { return baseSig(RSASHA256, "sha1only") }, rk, StatusPermError, ErrKeyUnusable},
		{"service not email", func() *Signature { return baseSig(RSASHA256, "web") }, rk, StatusPermError, ErrKeyUnusable},
		{"strict subdomain", func() *Signature { s := baseSig(RSASHA256, "strict"); s.Identity = "u@sub.a.test"; return s }, rk, StatusPermError, ErrKeyUnusable},
		{"strict same domain", func() *Signature { s := baseSig(RSASHA256, "strict"); s.Identity = "u@a.test"; return s }, rk, StatusPass, nil},
		{"identity outside", func() *Signature { s := baseSig(RSASHA256, "rsa"); s.Identity = "u@b.test"; return s }, rk, StatusPermError, ErrDomainMismatch},
		{"From not signed", func() *Signature { s := baseSig(RSASHA256, "rsa"); s.Headers = []string{"To", "Subject"}; return s }, rk, StatusPermError, ErrFromNotSigned},
		{"expired", func() *Signature {
			s := baseSig(RSASHA256, "rsa")
			s.Timestamp, s.Expiration = time.Unix(1600000000, 0), time.Unix(1700000000-301, 0)
			return s
		}, rk, StatusPermError, ErrExpired},
		{"expired within skew", func() *Signature {
			s := baseSig(RSASHA256, "rsa")
			s.Expiration = time.Unix(1700000000-200, 0)
			return s
		}, rk, StatusPass, nil},
		{"future", func() *Signature {
			s := baseSig(RSASHA256, "rsa")
			s.Timestamp = time.Unix(1700000100+301, 0)
			return s
		}, rk, StatusPermError, ErrFutureTimestamp},
		{"dns down", func() *Signature { return baseSig(RSASHA256, "down") }, rk, StatusTempError, nil},
		{"wrong key", func() *Signature { return baseSig(Ed25519SHA256, "ed") }, ed25519.NewKeyFromSeed(make([]byte, 32)), StatusFail, ErrSignatureMismatch},
		{"l= beyond body", func() *Signature {
			s := baseSig(RSASHA256, "rsa")
			s.BodyLength, s.HasBodyLength = 10000, true
			return s
		}, rk, StatusFail, ErrBodyLength},
	}
	for _, tt := range tests {
		msg := signCustom(t, testMessage, tt.sig(), tt.key)
		res := verifyTest(t, msg, dns)
		require.Len(t, res, 1, tt.name)
		r := res[0]
		assert.Equal(t, tt.status, r.Status, "%s: %v", tt.name, r.Err)
		if tt.err != nil {
			assert.ErrorIs(t, r.Err, tt.err, tt.name)
		}
	}

	// A temporary DNS failure is a *DNSError.
	res := verifyTest(t, signCustom(t, testMessage, baseSig(RSASHA256, "down"), rk), dns)
	var de *DNSError
	require.ErrorAs(t, res[0].Err, &de)
	assert.Equal(t, "down._domainkey.a.test.", de.Name)

	// t=y is reported.
	res = verifyTest(t, signCustom(t, testMessage, baseSig(RSASHA256, "testing"), rk), dns)
	assert.Equal(t, StatusPass, res[0].Status)
	assert.True(t, res[0].Testing())

	// Syntax errors are *SyntaxError, say where, and are permerror.
	res = verifyTest(t, "DKIM-Signature: v=1; a=rsa-sha256; d=a.test; s=rsa; h=from; bh=AAAA; b=AAAA; d=b.test\r\n"+testMessage, dns)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPermError, res[0].Status)
	var se *SyntaxError
	require.ErrorAs(t, res[0].Err, &se)
	assert.Equal(t, "d", se.Tag)
	assert.Contains(t, se.Error(), "duplicate")

	// No signature: no results.
	assert.Empty(t, verifyTest(t, testMessage, dns))
}

func TestVerifyBodyLength(t *testing.T) {
	rk, _ := testKeys(t)
	dns := testDNS(t)
	s := baseSig(RSASHA256, "rsa")
	s.BodyLength, s.HasBodyLength = 22, true // "Shall we have lunch?\r\n"
	msg := signCustom(t, testMessage, s, rk)
	res := verifyTest(t, msg, dns)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPass, res[0].Status, "%v", res[0].Err)
	assert.Equal(t, int64(8), res[0].UnsignedBytes) // " Alice\r\n" relaxed
	res = verifyTest(t, msg+"Click here: http://evil.test/\r\n", dns)
	assert.Equal(t, StatusPass, res[0].Status)
	assert.Equal(t, int64(8+31), res[0].UnsignedBytes)
}

func TestVerifyLimits(t *testing.T) {
	dns := testDNS(t)
	// Seven signatures: five checked, two not.
	signed := testMessage
	for range 7 {
		signed = signTest(t, signed, bothKeys(t, Relaxed)[1])
	}
	res := verifyTest(t, signed, dns)
	require.Len(t, res, 7)
	for i, r := range res {
		if i < DefaultMaxSignatures {
			assert.Equal(t, StatusPass, r.Status, "%d %v", i, r.Err)
		} else {
			assert.Equal(t, StatusNeutral, r.Status)
			assert.ErrorIs(t, r.Err, ErrNotChecked)
		}
	}
	// One DNS query for the five signatures with the same key, and one
	// body hash shared by them.
	dns.queries = 0
	v := NewVerifier(&VerifyOptions{Resolver: dns, Now: at(1700000100), MaxSignatures: -1})
	_, err := v.Write([]byte(signed))
	require.NoError(t, err)
	assert.Len(t, v.body.sinks, 1)
	res, err = v.Finish(context.Background())
	require.NoError(t, err)
	require.Len(t, res, 7)
	assert.Equal(t, 1, dns.queries)

	// A header beyond the limit.
	big := "From: a@a.test\r\nX-Big: " + strings.Repeat("x", 2000) + "\r\n\r\nbody\r\n"
	_, err = Verify(context.Background(), strings.NewReader(big), &VerifyOptions{Resolver: dns, MaxHeaderBytes: 1000})
	assert.ErrorIs(t, err, ErrHeaderTooLarge)
	err = Sign(&bytes.Buffer{}, strings.NewReader(big), &SignOptions{Domain: "a.test", Selector: "ed", Key: testEd, MaxHeaderBytes: 1000})
	assert.ErrorIs(t, err, ErrHeaderTooLarge)
}

// TestStreamingChunks writes a message to Signer and Verifier one byte at a
// time and in odd chunks: the result must not depend on how it is cut.
func TestStreamingChunks(t *testing.T) {
	dns := testDNS(t)
	msg := signTest(t, testMessage, bothKeys(t, Simple)...)
	for _, chunk := range []int{1, 2, 7, 64} {
		v := NewVerifier(&VerifyOptions{Resolver: dns, Now: at(1700000100)})
		for p := []byte(msg); len(p) > 0; {
			n := min(chunk, len(p))
			_, err := v.Write(p[:n])
			require.NoError(t, err)
			p = p[n:]
		}
		res, err := v.Finish(context.Background())
		require.NoError(t, err)
		require.Len(t, res, 2)
		for _, r := range res {
			assert.Equal(t, StatusPass, r.Status, "chunk %d: %v", chunk, r.Err)
		}

		s, err := NewSigner(bothKeys(t, Relaxed)...)
		require.NoError(t, err)
		for p := []byte(testMessage); len(p) > 0; {
			n := min(chunk, len(p))
			_, err := s.Write(p[:n])
			require.NoError(t, err)
			p = p[n:]
		}
		require.NoError(t, s.Close())
		for _, r := range verifyTest(t, string(s.Fields())+testMessage, dns) {
			assert.Equal(t, StatusPass, r.Status, "chunk %d: %v", chunk, r.Err)
		}
	}
}

func TestSignErrors(t *testing.T) {
	rk, ek := testKeys(t)
	_, err := NewSigner()
	assert.Error(t, err)
	_, err = NewSigner(&SignOptions{Domain: "a.test", Selector: "s", Key: ek, Identity: "x@b.test"})
	assert.ErrorIs(t, err, ErrDomainMismatch)
	_, err = NewSigner(&SignOptions{Domain: "a.test;x=1", Selector: "s", Key: ek})
	assert.Error(t, err)
	_, err = NewSigner(&SignOptions{Domain: "a.test", Selector: "s\r\nX: y", Key: rk})
	assert.Error(t, err)
	_, err = NewSigner(&SignOptions{Domain: "a.test", Selector: "s"})
	assert.Error(t, err)
	err = Sign(&bytes.Buffer{}, strings.NewReader("To: b@b.test\r\n\r\nhi\r\n"), &SignOptions{Domain: "a.test", Selector: "s", Key: ek})
	assert.ErrorIs(t, err, ErrNoFrom)

	s, err := NewSigner(&SignOptions{Domain: "a.test", Selector: "s", Key: ek})
	require.NoError(t, err)
	_, err = s.Write([]byte(testMessage))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.Write([]byte("x"))
	assert.True(t, errors.Is(err, ErrClosed))
}

// A message that is all header (no blank line) has an empty body; a message
// with LF line ends verifies as it would with CRLF.
func TestOddMessages(t *testing.T) {
	dns := testDNS(t)
	for _, msg := range []string{
		"From: a@a.test\r\nSubject: x\r\n",
		"From: a@a.test\r\nSubject: x\r\n\r\n",
		"From: a@a.test\nSubject: x\n\nbody\n",
	} {
		for _, c := range []Canonicalization{Simple, Relaxed} {
			signed := signTest(t, msg, bothKeys(t, c)...)
			for _, r := range verifyTest(t, signed, dns) {
				assert.Equal(t, StatusPass, r.Status, "%q %s: %v", msg, c, r.Err)
			}
			lf := strings.ReplaceAll(signed, "\r\n", "\n")
			for _, r := range verifyTest(t, lf, dns) {
				assert.Equal(t, StatusPass, r.Status, "LF %q %s: %v", msg, c, r.Err)
			}
		}
	}
}
