package dkim

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 6376 Appendix A.2, the signed message.
const rfc6376Message = `DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;
     c=simple/simple; q=dns/txt; i=joe@football.example.com;
     h=Received : From : To : Subject : Date : Message-ID;
     bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
     b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB
       4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut
       KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV
       4bmp/YzhwvcubU4=;
Received: from client1.football.example.com  [192.0.2.1]
     by submitserver.example.com with SUBMISSION;
     Fri, 11 Jul 2003 21:01:54 -0700 (PDT)
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
`

// RFC 6376 Appendix C: the key pair (the record is shown under example.org,
// the signature says d=example.com; we serve it where the signature looks).
const rfc6376PrivateKey = `-----BEGIN RSA PRIVATE KEY-----
MIICXwIBAAKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFC
jxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gb
to/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB
AoGBALmn+XwWk7akvkUlqb+dOxyLB9i5VBVfje89Teolwc9YJT36BGN/l4e0l6QX
/1//6DWUTB3KI6wFcm7TWJcxbS0tcKZX7FsJvUz1SbQnkS54DJck1EZO/BLa5ckJ
gAYIaqlA9C0ZwM6i58lLlPadX/rtHb7pWzeNcZHjKrjM461ZAkEA+itss2nRlmyO
n1/5yDyCluST4dQfO8kAB3toSEVc7DeFeDhnC1mZdjASZNvdHS4gbLIA1hUGEF9m
3hKsGUMMPwJBAPW5v/U+AWTADFCS22t72NUurgzeAbzb1HWMqO4y4+9Hpjk5wvL/
eVYizyuce3/fGke7aRYw/ADKygMJdW8H/OcCQQDz5OQb4j2QDpPZc0Nc4QlbvMsj
7p7otWRO5xRa6SzXqqV3+F0VpqvDmshEBkoCydaYwc2o6WQ5EBmExeV8124XAkEA
qZzGsIxVP+sEVRWZmW6KNFSdVUpk3qzK0Tz/WjQMe5z0UunY9Ax9/4PVhp/j61bf
eAYXunajbBSOLlx4D+TunwJBANkPI5S9iylsbLs6NkaMHV6k5ioHBBmgCak95JGX
GMot/L2x0IYyMLAz6oLWh2hm7zwtb0CgOrPo1ke44hFYnfc=
-----END RSA PRIVATE KEY-----
`

const rfc6376Record = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQ" +
	"KBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt" +
	"IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v" +
	"/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi" +
	"tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"

// The example of RFC 6376 Appendix A is inconsistent: its bh= is the hash of
// the body under relaxed canonicalisation (the value RFC 8463 shows for
// c=relaxed/relaxed), while the signature says c=simple/simple and the body
// has two spaces in a row. A correct verifier reports a body hash mismatch.
func TestRFC6376Example(t *testing.T) {
	dns := &fakeDNS{txt: map[string][]string{"brisbane._domainkey.example.com": {rfc6376Record}}}
	res, err := Verify(context.Background(), strings.NewReader(crlf(rfc6376Message)), &VerifyOptions{Resolver: dns})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, StatusFail, res[0].Status)
	assert.ErrorIs(t, res[0].Err, ErrBodyHashMismatch)

	_, body, _ := strings.Cut(crlf(rfc6376Message), "\r\n\r\n")
	assert.Equal(t, "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=", bodyHash(body, Simple))
	assert.Equal(t, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", bodyHash(body, Relaxed))
}

func bodyHash(body string, c Canonicalization) string {
	h := sha256.New()
	bc := newBodyCanon(h, c)
	bc.Write([]byte(body))
	bc.Close()
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// TestRFC6376Resign signs the message of Appendix A.1 with the key of
// Appendix C as Appendix A.2 describes, and verifies the result with the
// record of Appendix C.
func TestRFC6376Resign(t *testing.T) {
	blk, _ := pem.Decode([]byte(rfc6376PrivateKey))
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	require.NoError(t, err)
	rec, err := ParseKeyRecord(rfc6376Record)
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(rec.PublicKey.(*rsa.PublicKey)), "Appendix C's record publishes Appendix C's key")

	_, msg, _ := strings.Cut(crlf(rfc6376Message), "(PDT)\r\n")
	var out bytes.Buffer
	require.NoError(t, Sign(&out, strings.NewReader(msg), &SignOptions{
		Domain: "example.com", Selector: "brisbane", Key: key, Identity: "joe@football.example.com",
		HeaderCanon: Simple, BodyCanon: Simple,
		HeaderFields: []string{"Received", "From", "To", "Subject", "Date", "Message-ID"}, OverSign: []string{},
	}))
	assert.True(t, strings.HasSuffix(out.String(), msg))
	dns := &fakeDNS{txt: map[string][]string{"brisbane._domainkey.example.com": {rfc6376Record}}}
	res, err := Verify(context.Background(), &out, &VerifyOptions{Resolver: dns})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Equal(t, StatusPass, res[0].Status, "%v", res[0].Err)
	assert.Equal(t, "4bLNXImK9drULnmePzZNEBleUanJCX5PIsDIFoH4KTQ=", base64.StdEncoding.EncodeToString(res[0].Signature.BodyHash))
}

// RFC 6376 §3.4.5, examples 1 to 3.
func TestCanonicalizationExamples(t *testing.T) {
	header := []string{"A: X\r\n", "B : Y\t\r\n\tZ  \r\n"}
	body := " C \r\nD \t E\r\n\r\n\r\n"
	relaxedHeader := "a:X\r\nb:Y Z\r\n"
	simpleHeader := "A: X\r\nB : Y\t\r\n\tZ  \r\n"
	relaxedBody := " C\r\nD E\r\n"
	simpleBody := " C \r\nD \t E\r\n"

	canonHeader := func(c Canonicalization) string {
		var b []byte
		for _, f := range header {
			b = appendHeaderCanon(b, []byte(f), c)
		}
		return string(b)
	}
	canonBody := func(c Canonicalization) string {
		var buf bytes.Buffer
		bc := newBodyCanon(&buf, c)
		bc.Write([]byte(body))
		bc.Close()
		return buf.String()
	}
	assert.Equal(t, relaxedHeader, canonHeader(Relaxed))
	assert.Equal(t, relaxedBody, canonBody(Relaxed))
	assert.Equal(t, simpleHeader, canonHeader(Simple))
	assert.Equal(t, simpleBody, canonBody(Simple))
}
