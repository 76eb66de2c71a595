package dkim

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeDNS serves TXT records from a map; a name in temp fails temporarily.
type fakeDNS struct {
	txt     map[string][]string
	temp    map[string]bool
	queries int
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.queries++
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if f.temp[name] {
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	if r, ok := f.txt[name]; ok {
		return r, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// crlf turns the RFC's LF-only, indented text into a message.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const rfc8463Message = `DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
`

// RFC 8463 §A.2.
var rfc8463DNS = map[string][]string{
	"brisbane._domainkey.football.example.com": {"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
	"test._domainkey.football.example.com": {"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" +
		"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" +
		"DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" +
		"Ip3G+2kryOTIKT+l/K4w3QIDAQAB"},
}

// RFC 8463 §A.1.
const rfc8463Ed25519Seed = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

const rfc8463RSAKey = `-----BEGIN RSA PRIVATE KEY-----
MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi
Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM
KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB
AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm
6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe
zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy
6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc
uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy
WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd
WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a
licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst
o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe
uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL
-----END RSA PRIVATE KEY-----
`

func at(unix int64) func() time.Time { return func() time.Time { return time.Unix(unix, 0) } }

func TestRFC8463Example(t *testing.T) {
	dns := &fakeDNS{txt: rfc8463DNS}
	res, err := Verify(context.Background(), strings.NewReader(crlf(rfc8463Message)),
		&VerifyOptions{Resolver: dns, Now: at(1528637909)})
	require.NoError(t, err)
	require.Len(t, res, 2)
	for i, r := range res {
		assert.Equal(t, StatusPass, r.Status, "signature %d: %v", i, r.Err)
		assert.NoError(t, r.Err)
		assert.Equal(t, "football.example.com", r.Domain())
	}
	assert.Equal(t, Ed25519SHA256, res[0].Signature.Algorithm)
	assert.Equal(t, RSASHA256, res[1].Signature.Algorithm)

	// The same message with LF line ends, as stored by many MDAs.
	res, err = Verify(context.Background(), strings.NewReader(rfc8463Message),
		&VerifyOptions{Resolver: dns, Now: at(1528637909)})
	require.NoError(t, err)
	for _, r := range res {
		assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
	}
}

// TestRFC8463Resign signs the example message with the RFC's keys and the
// same tags, and checks that the result is the RFC's: Ed25519 signatures
// and RSA PKCS#1 v1.5 are deterministic.
func TestRFC8463Resign(t *testing.T) {
	seed, err := base64.StdEncoding.DecodeString(rfc8463Ed25519Seed)
	require.NoError(t, err)
	edKey := ed25519.NewKeyFromSeed(seed)
	blk, _ := pem.Decode([]byte(rfc8463RSAKey))
	rsaKey, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	require.NoError(t, err)

	_, body, _ := strings.Cut(crlf(rfc8463Message), "From: Joe")
	msg := "From: Joe" + body
	fields := []string{"from", "to", "subject", "date", "message-id", "from", "subject", "date"}
	mk := func(sel string) *SignOptions {
		return &SignOptions{Domain: "football.example.com", Selector: sel, Identity: "@football.example.com",
			Time: time.Unix(1528637909, 0), HeaderFields: fields, OverSign: []string{}}
	}
	ed, rs := mk("brisbane"), mk("test")
	ed.Key, rs.Key = edKey, rsaKey
	var out strings.Builder
	require.NoError(t, Sign(&out, strings.NewReader(msg), ed, rs))
	// Our h= lists the fields differently from the RFC (its order, ours
	// repeated per name), so compare by verifying with the RFC's records.
	dns := &fakeDNS{txt: rfc8463DNS}
	res, err := Verify(context.Background(), strings.NewReader(out.String()), &VerifyOptions{Resolver: dns, Now: at(1528637909)})
	require.NoError(t, err)
	require.Len(t, res, 2)
	for _, r := range res {
		assert.Equal(t, StatusPass, r.Status, "%v", r.Err)
		assert.Equal(t, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", base64.StdEncoding.EncodeToString(r.Signature.BodyHash))
	}
}
